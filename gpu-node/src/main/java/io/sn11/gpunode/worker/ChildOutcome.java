package io.sn11.gpunode.worker;

import io.sn11.cluster.work.EvaluationWork.Update;

/**
 * How an evaluation JVM's work ends: with a final update (the model failed a check, or the evaluation crashed), or with
 * the model's replies, which the node judges with its resident judge ({@link RepliesJudging}).
 */
sealed interface ChildOutcome permits ChildOutcome.Final, Replies {
  /** A {@code Completed} or {@code Failed} the node reports as it is. */
  record Final(Update update) implements ChildOutcome {}
}
