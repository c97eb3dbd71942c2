package io.sn11.gpunode.worker;

import io.sn11.cluster.domain.ModelDetails;
import io.sn11.cluster.work.EvaluationWork.Assignment;
import io.sn11.cluster.work.EvaluationWork.Update;
import io.sn11.gpunode.store.HubClient;
import io.sn11.gpunode.store.ModelStore;
import io.sn11.gpunode.store.StoreException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The real evaluation: the model folder from the store (fetched from the Hub when missing), then everything that reads
 * the miner's files, from the precheck to the scores ({@link ModelScoring}), in a JVM of its own
 * ({@link EvaluationProcess}): this node never parses, loads or allocates for a miner's model. The replies the model
 * wrote there come back as text and are judged here, by the node's resident judge ({@link RepliesJudging}).
 */
public final class ModelEvaluator implements Evaluator {
  private final ModelStore store;
  private final Optional<HubClient> hub;
  private final EvaluationProcess process;
  private final String childSettings;
  private final RepliesJudging judging;

  /**
   * @param hub empty when models must already be in the store
   * @param childSettings what every evaluation JVM is configured with: see {@link EvaluationJob#settings()}
   * @param judging the node's judge step, with the node's one judge
   */
  ModelEvaluator(ModelStore store, Optional<HubClient> hub, EvaluationProcess process, String childSettings, RepliesJudging judging) {
    this.store = store;
    this.hub = hub;
    this.process = process;
    this.childSettings = childSettings;
    this.judging = judging;
  }

  @Override
  public Update evaluate(Assignment assignment, ProgressSink progress) throws Exception {
    ModelDetails model = assignment.details();
    progress.progress("precheck", 0);
    Path dir;
    try {
      dir = locate(model, progress);
    } catch (StoreException e) {
      return ModelScoring.failure(e.getMessage(), e.category());
    }
    EvaluationJob job =
        new EvaluationJob(assignment.hash(), model.repository(), model.revisionOrDefault(), model.chatTemplateType(), dir.toString(), childSettings);
    return switch (process.run(job, progress)) {
      case ChildOutcome.Final f -> f.update();
      case Replies replies -> judging.complete(replies, progress);
    };
  }

  private Path locate(ModelDetails model, ProgressSink progress) throws StoreException {
    Optional<Path> present = store.find(model.repoNamespace(), model.repoName(), model.revisionOrDefault());
    if (present.isPresent()) return present.get();
    if (hub.isEmpty()) {
      throw StoreException.miner(
          "repository " + model.repository() + " at revision " + model.revisionOrDefault() + " is not in the model store "
              + store.pathFor(model.repoNamespace(), model.repoName(), model.revisionOrDefault()) + " (fetching from the Hub is off)");
    }
    return store.ensure(
        hub.get(), model.repoNamespace(), model.repoName(), model.revisionOrDefault(),
        (done, total) -> progress.progress("fetch", total == 0 ? 1 : (double) done / total));
  }
}
