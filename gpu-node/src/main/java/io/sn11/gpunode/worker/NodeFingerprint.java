package io.sn11.gpunode.worker;

import io.sn11.cluster.domain.JudgeIdentity;
import io.sn11.cluster.scoring.ScoringFingerprint;
import io.sn11.cluster.scoring.ScoringSettings;
import io.sn11.engine.EngineVersion;
import io.sn11.engine.GenerationOptions;
import io.sn11.engine.backend.Backends;
import io.sn11.engine.data.Dataset;
import io.sn11.engine.data.SyntheticDataset;
import java.io.IOException;
import java.nio.file.Files;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.UnaryOperator;

/**
 * The scoring fingerprint of a gpu-node, computed once when it starts from what its evaluations will use:
 *
 * <ul>
 *   <li>{@code engine.version}, and {@code backend} as the evaluation resolves it ({@code auto}: cuda where it can run,
 *       else cpu): the backends' kernels agree only within tolerances;
 *   <li>{@code dataset.version} and {@code dataset.sha256}, of the dataset's bytes: the file's, or the JSONL the
 *       synthetic dataset's seed and size generate (so a file holding exactly those conversations scores alike);
 *   <li>{@code evaluation.samples}, {@code evaluation.max-tokens} and {@code evaluation.batch-size}, and the judge's
 *       generation options ({@code judge.generation.*}): the samples and their truncation decide what is scored; the
 *       batch sizes are in because the cuda backend's cuBLASLt picks its kernels by matrix shape, which the batch
 *       changes, so its last bits may differ (the cpu backends sum in a fixed order whatever the batch, but one rule
 *       for every backend keeps the fingerprint simple to reason about);
 *   <li>the scoring settings that shape one model's score ({@code scoring.*}, {@link ScoringSettings#scoreShaping});
 *   <li>the judge's identity ({@code judge.kind}, {@code judge.model}, and for a judge model of ours its
 *       {@code judge.content-hash} and {@code judge.engine-version}).
 * </ul>
 *
 * Left out: what changes how fast or whether a model fits, never its score (slots, threads, the evaluation JVM's
 * memory, timeouts, the engine's size limits, the Hub).
 */
final class NodeFingerprint {
  private NodeFingerprint() {}

  /** The node's fingerprint; reads the dataset file (the node's, not the model's: an error stops the node). */
  static ScoringFingerprint of(GpuNodeSettings settings, ScoringSettings scoring, JudgeIdentity judge) throws IOException {
    return of(settings, scoring, judge, NodeFingerprint::resolvedBackend);
  }

  /** As above, with how a configured backend name resolves on this machine (tests give their own). */
  static ScoringFingerprint of(GpuNodeSettings settings, ScoringSettings scoring, JudgeIdentity judge, UnaryOperator<String> backends)
      throws IOException {
    Map<String, String> components = new TreeMap<>();
    components.put("engine.version", EngineVersion.VERSION);
    components.put("backend", backends.apply(settings.backend()));
    GpuNodeSettings.EvaluationSettings evaluation = settings.evaluation();
    byte[] dataset = datasetBytes(evaluation);
    components.put("dataset.version", Dataset.versionOf(dataset));
    components.put("dataset.sha256", Dataset.sha256(dataset));
    components.put("evaluation.samples", Integer.toString(evaluation.samples()));
    components.put("evaluation.max-tokens", Integer.toString(evaluation.maxTokens()));
    components.put("evaluation.batch-size", Integer.toString(evaluation.batchSize()));
    GenerationOptions generation = settings.judge().generation();
    components.put("judge.generation.max-new-tokens", Integer.toString(generation.maxNewTokens()));
    components.put("judge.generation.temperature", Double.toString(generation.temperature()));
    components.put("judge.generation.seed", Long.toString(generation.seed()));
    components.put("judge.generation.batch-size", Integer.toString(generation.batchSize()));
    scoring.scoreShaping().forEach((key, value) -> components.put("scoring." + key, value));
    components.put("judge.kind", judge.kind());
    components.put("judge.model", judge.model());
    if (judge.contentHash() != null) components.put("judge.content-hash", judge.contentHash());
    if (judge.engineVersion() != null) components.put("judge.engine-version", judge.engineVersion());
    return ScoringFingerprint.of(components);
  }

  /** The backend an evaluation of this node runs on: what {@link Backends#create} makes of the name here. */
  private static String resolvedBackend(String configured) {
    if (!configured.equals("auto")) return configured;
    return Backends.usesCuda(configured) ? "cuda" : "cpu";
  }

  private static byte[] datasetBytes(GpuNodeSettings.EvaluationSettings evaluation) throws IOException {
    if (evaluation.dataset() == null) return SyntheticDataset.generate(evaluation.syntheticSeed(), evaluation.syntheticConversations()).toJsonl();
    return Files.readAllBytes(evaluation.dataset());
  }
}
