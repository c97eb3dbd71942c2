package io.sn11.gpunode.worker;

import com.typesafe.config.Config;
import io.sn11.cluster.domain.Failure;
import io.sn11.cluster.domain.FailureCategory;
import io.sn11.cluster.scoring.ScoringSettings;
import io.sn11.cluster.work.EvaluationWork.Failed;
import io.sn11.cluster.work.EvaluationWork.Update;
import io.sn11.engine.Transformer;
import io.sn11.engine.backend.Backend;
import io.sn11.engine.backend.Backends;
import io.sn11.engine.backend.DeviceMemoryException;
import io.sn11.engine.data.Dataset;
import io.sn11.engine.data.SyntheticDataset;
import io.sn11.engine.eval.EvalResult;
import io.sn11.engine.eval.Evaluation;
import io.sn11.engine.model.ModelConfig;
import io.sn11.engine.model.ModelException;
import io.sn11.engine.model.ModelWeights;
import io.sn11.engine.safetensors.SafetensorsException;
import io.sn11.engine.tokenizer.ChatTemplate;
import io.sn11.engine.tokenizer.Tokenizer;
import io.sn11.gpunode.judge.JudgeStep;
import io.sn11.gpunode.store.FetchRecord;
import io.sn11.gpunode.store.FetchRecord.FileDigest;
import io.sn11.gpunode.store.Precheck;
import io.sn11.gpunode.store.PrecheckResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One evaluation of a model folder, in the evaluation JVM ({@link EvaluationChild}). The precheck: the files
 * ({@link Precheck}), the sizes the config implies against the node's limits, the weights' shapes in the safetensors
 * headers, and the tokenizer, which must load and encode (its native library aborts the process on some damaged
 * files). Only then RUNNING: the engine's eval score, creativity and latency on the dataset, the size score, and the
 * generation of the judge step, where the model writes the last turn of the same samples; the node's judge compares
 * them ({@link RepliesJudging}).
 */
final class ModelScoring {
  private static final String TOKENIZER_PROBE = "Hello, traveller. What brings you here?";

  private final GpuNodeSettings settings;
  private final ScoringSettings scoring;

  ModelScoring(GpuNodeSettings settings, ScoringSettings scoring) {
    this.settings = settings;
    this.scoring = scoring;
  }

  static ModelScoring fromConfig(Config config) {
    return new ModelScoring(GpuNodeSettings.fromConfig(config), ScoringSettings.fromConfig(config));
  }

  /**
   * The replies to judge, or the final update of a model that failed before. Local I/O errors (the store, the dataset)
   * are thrown: they are the node's, not the model's. The files are checked against the record of the fetch
   * ({@link LoadedContent}): config.json and tokenizer.json as soon as they are read, the weights once mapped; a failure
   * blamed on the weights or the precheck stands only when the files are the recorded ones.
   */
  ChildOutcome score(EvaluationJob job, Evaluator.ProgressSink progress) throws IOException, InterruptedException {
    Path dir = Path.of(job.modelDir());
    PrecheckResult precheck = new Precheck().checkUnhashed(dir, job.revision(), job.chatTemplate(), scoring.maxModelBytes());
    if (!precheck.passed()) return unlessChanged(job, failure(precheck.reason(), precheck.category().orElse(FailureCategory.MINER)));
    LoadedContent content = LoadedContent.read(dir);
    // Before anything parses them (the tokenizer's native library could abort on a file that is not the miner's).
    Optional<Update> metadataMismatch = content.metadataMismatch(job.fetched());
    if (metadataMismatch.isPresent()) return new ChildOutcome.Final(metadataMismatch.get());
    ModelConfig config;
    try {
      config = ModelConfig.fromJson(content.config(), dir.resolve(FetchRecord.CONFIG).toString());
    } catch (ModelException e) {
      return failed(e.getMessage(), FailureCategory.MINER);
    }
    GpuNodeSettings.EvaluationSettings e = settings.evaluation();
    List<String> beyondLimits = settings.limits().problemsWith(config, e.maxTokens(), Math.max(e.batchSize(), settings.judge().generation().batchSize()));
    if (!beyondLimits.isEmpty()) return failed("the model is beyond the engine's limits: " + String.join("; ", beyondLimits), FailureCategory.MINER);
    try (ModelWeights weights = ModelWeights.load(dir, config);
        Tokenizer tokenizer = usableTokenizer(content.tokenizer(), dir.resolve(FetchRecord.TOKENIZER))) {
      long checkStart = System.nanoTime();
      SortedMap<String, FileDigest> loaded = content.digests(weights);
      Optional<Update> mismatch = content.mismatch(job.fetched(), loaded);
      if (mismatch.isPresent()) return new ChildOutcome.Final(mismatch.get());
      ContentCheck check = new ContentCheck(content.contentHash(loaded), (System.nanoTime() - checkStart) / 1_000_000);
      progress.running();
      return run(job, precheck, check, weights, tokenizer, dataset(e), progress);
    } catch (DeviceMemoryException ex) {
      // Another node (or this one, later) may have the memory: not the miner's doing.
      return failed(ex.getMessage(), FailureCategory.INFRASTRUCTURE);
    } catch (SafetensorsException | ModelException ex) {
      // Passed the precheck's file checks but the engine cannot read it: the repository's fault.
      return unlessChanged(job, failure("the engine cannot load the model: " + ex.getMessage(), FailureCategory.MINER));
    }
  }

  /** The loaded files' content hash, checked against the record, and how long hashing them took. */
  private record ContentCheck(String contentHash, long millis) {}

  private static ChildOutcome unlessChanged(EvaluationJob job, Failed minersFailure) throws IOException {
    return new ChildOutcome.Final(LoadedContent.unlessChanged(job.fetched(), Path.of(job.modelDir()), minersFailure));
  }

  private ChildOutcome run(
      EvaluationJob job, PrecheckResult precheck, ContentCheck check, ModelWeights weights, Tokenizer tokenizer, Dataset dataset,
      Evaluator.ProgressSink progress)
      throws IOException, InterruptedException {
    GpuNodeSettings.EvaluationSettings e = settings.evaluation();
    try (Backend backend = Backends.create(settings.backend(), settings.threads());
        Transformer transformer = new Transformer(weights, backend)) {
      ChatTemplate template = ChatTemplate.byName(job.chatTemplate());
      Evaluation.Options options = new Evaluation.Options(e.samples(), job.hash(), template, e.maxTokens(), e.batchSize());
      EvalResult result =
          Evaluation.run(job.repository(), transformer, tokenizer, dataset, options, (scored, total) -> progress.progress("eval", (double) scored / total));
      JudgeStep.Generated replies =
          JudgeStep.generate(transformer, tokenizer, template, dataset.select(job.hash(), e.samples()), settings.judge().generation(), progress::progress);
      return new Replies(result.evalScore(), result.creativity(), result.latencyMs(), precheck.weightBytes(), info(result, precheck, check), replies);
    }
  }

  /** The model's tokenizer, loaded and tried on a sentence; a file the library refuses is the miner's problem. */
  private static Tokenizer usableTokenizer(byte[] json, Path file) {
    if (json == null) throw new ModelException("tokenizer.json missing");
    Tokenizer tokenizer;
    try {
      tokenizer = Tokenizer.fromJson(json, file.toString());
    } catch (RuntimeException refused) {
      throw new ModelException("tokenizer.json is not a usable tokenizer: " + refused.getMessage(), refused);
    }
    try {
      tokenizer.encode(TOKENIZER_PROBE);
      return tokenizer;
    } catch (RuntimeException refused) {
      tokenizer.close();
      throw new ModelException("tokenizer.json is not a usable tokenizer: " + refused.getMessage(), refused);
    }
  }

  private static Dataset dataset(GpuNodeSettings.EvaluationSettings evaluation) {
    if (evaluation.dataset() == null) {
      return SyntheticDataset.generate(evaluation.syntheticSeed(), evaluation.syntheticConversations());
    }
    try {
      return Dataset.read(evaluation.dataset());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the evaluation dataset " + evaluation.dataset() + ": " + e.getMessage(), e);
    }
  }

  /** What shaped the result, so that it can be reproduced: model content, dataset, engine, backend, settings (the judge's part: {@link RepliesJudging}). */
  private Map<String, String> info(EvalResult result, PrecheckResult precheck, ContentCheck check) {
    Map<String, String> info = new LinkedHashMap<>();
    info.put("content_hash", check.contentHash());
    info.put("content_check_ms", Long.toString(check.millis()));
    info.put("model_bytes", Long.toString(precheck.weightBytes()));
    info.put("dataset_version", result.datasetVersion());
    info.put("engine_version", result.engineVersion());
    info.put("backend", result.backend());
    info.put("backend_settings", new TreeMap<>(result.backendSettings()).toString());
    info.put("chat_template", result.chatTemplate());
    info.put("samples", Integer.toString(result.samples()));
    info.put("scored_tokens", Integer.toString(result.scoredTokens()));
    info.put("max_tokens", Integer.toString(settings.evaluation().maxTokens()));
    info.put("batch_size", Integer.toString(settings.evaluation().batchSize()));
    info.put("mean_forward_latency_ms", Double.toString(result.latencyMs()));
    return info;
  }

  static ChildOutcome.Final failed(String reason, FailureCategory category) {
    return new ChildOutcome.Final(failure(reason, category));
  }

  static Failed failure(String reason, FailureCategory category) {
    return new Failed(new Failure(reason, category));
  }
}
