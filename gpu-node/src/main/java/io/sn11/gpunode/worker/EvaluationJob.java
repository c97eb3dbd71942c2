package io.sn11.gpunode.worker;

import io.sn11.gpunode.store.FetchRecord;
import java.util.Objects;

/**
 * What an evaluation JVM is given: the model, already in the store, and the node's settings for evaluations (the
 * {@code sn11.gpu-node}, {@code sn11.judge} and {@code sn11.scoring} blocks, rendered as JSON).
 *
 * @param hash       the model hash: it seeds the choice of samples
 * @param repository namespace/name, as the evaluation records it
 * @param revision   the revision the submission names (the precheck checks it is pinned)
 * @param modelDir   the model folder in the store
 * @param fetched    the node's record of the model's files as they entered the store: what the evaluation checks the
 *                   files it loads against
 */
public record EvaluationJob(
    String hash, String repository, String revision, String chatTemplate, String modelDir, FetchRecord fetched, String settings) {
  public EvaluationJob {
    Objects.requireNonNull(fetched, "fetched");
  }
}
