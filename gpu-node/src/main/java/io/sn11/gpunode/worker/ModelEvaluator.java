package io.sn11.gpunode.worker;

import io.sn11.cluster.domain.ModelDetails;
import io.sn11.cluster.work.EvaluationWork.Assignment;
import io.sn11.cluster.work.EvaluationWork.Update;
import io.sn11.cluster.work.EvaluationWork.Failed;
import io.sn11.gpunode.store.FetchRecord;
import io.sn11.gpunode.store.HubClient;
import io.sn11.gpunode.store.ModelStore;
import io.sn11.gpunode.store.StoreException;
import java.nio.file.Path;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The real evaluation: the model folder from the store (fetched from the Hub when missing) and its fetch record, then
 * everything that reads the miner's files, from the precheck to the scores ({@link ModelScoring}), in a JVM of its own
 * ({@link EvaluationProcess}): this node never parses, loads or allocates for a miner's model. That JVM checks the files
 * it loads against the record; on a mismatch this node removes the model so that the next attempt fetches it again. The
 * replies the model wrote there come back as text and are judged here, by the node's resident judge ({@link RepliesJudging}).
 */
public final class ModelEvaluator implements Evaluator {
  private static final Logger log = LoggerFactory.getLogger(ModelEvaluator.class);

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
    FetchRecord fetched;
    try {
      dir = locate(model, progress);
      fetched = store.recordOrFirstUse(model.repoNamespace(), model.repoName(), model.revisionOrDefault());
    } catch (StoreException e) {
      return ModelScoring.failure(e.getMessage(), e.category());
    }
    EvaluationJob job =
        new EvaluationJob(
            assignment.hash(), model.repository(), model.revisionOrDefault(), model.chatTemplateType(), dir.toString(), fetched, childSettings);
    Update outcome =
        switch (process.run(job, progress)) {
          case ChildOutcome.Final f -> f.update();
          case Replies replies -> judging.complete(replies, progress);
        };
    if (outcome instanceof Failed failed && LoadedContent.isMismatch(failed)) forgetChanged(model, failed);
    return outcome;
  }

  /**
   * Our disk no longer holds what was fetched. With fetching on, the model and its record are removed, so that the next
   * attempt (infrastructure failures are re-queued) fetches it again. With fetching off they stay: removed, the model
   * would be missing, which is the miner's failure; the operator restores the files, or removes both to record anew.
   */
  private void forgetChanged(ModelDetails model, Failed mismatch) {
    if (hub.isEmpty()) {
      log.error("model {} at revision {}: {}; fetching is off, so it stays until its files are restored (or the folder and its record "
          + "under .fetched are removed)", model.repository(), model.revisionOrDefault(), mismatch.failure().reason());
      return;
    }
    log.warn("model {} at revision {}: {}; removing it and its record from the store to fetch it again", model.repository(),
        model.revisionOrDefault(), mismatch.failure().reason());
    try {
      store.delete(model.repoNamespace(), model.repoName(), model.revisionOrDefault());
    } catch (StoreException e) {
      log.error("cannot remove model {} at revision {} from the store: {}", model.repository(), model.revisionOrDefault(), e.getMessage());
    }
  }

  private Path locate(ModelDetails model, ProgressSink progress) throws StoreException {
    return store.locate(
        hub, model.repoNamespace(), model.repoName(), model.revisionOrDefault(),
        (done, total) -> progress.progress("fetch", total == 0 ? 1 : (double) done / total));
  }
}
