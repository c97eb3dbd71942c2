package io.sn11.gpunode.worker;

import io.sn11.cluster.work.EvaluationWork.Assignment;
import io.sn11.cluster.work.EvaluationWork.Update;

/**
 * Runs one claimed evaluation from precheck to scores. It runs on a thread of its own, for as long as
 * it takes; the worker slot forwards what it reports. Tests replace it to control timing and outcomes.
 */
@FunctionalInterface
public interface Evaluator {

  /** Where an evaluation says how far it has got. Both calls throw once the evaluation is cancelled. */
  interface ProgressSink {
    /** Precheck passed: the status becomes RUNNING. */
    void running();

    /** The current phase and the fraction of it done, in [0, 1]. */
    void progress(String phase, double fraction);
  }

  /**
   * @return {@code Completed} with the scores, or {@code Failed} with a reason and whose fault it was;
   *     an exception counts as an infrastructure failure
   */
  Update evaluate(Assignment assignment, ProgressSink progress) throws Exception;
}
