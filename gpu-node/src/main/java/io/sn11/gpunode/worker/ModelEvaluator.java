package io.sn11.gpunode.worker;

import io.sn11.cluster.domain.Failure;
import io.sn11.cluster.domain.FailureCategory;
import io.sn11.cluster.domain.ModelDetails;
import io.sn11.cluster.domain.Scores;
import io.sn11.cluster.scoring.ScoreInputs;
import io.sn11.cluster.scoring.ScoringSettings;
import io.sn11.cluster.scoring.TotalScore;
import io.sn11.cluster.work.EvaluationWork.Assignment;
import io.sn11.cluster.work.EvaluationWork.Completed;
import io.sn11.cluster.work.EvaluationWork.Failed;
import io.sn11.cluster.work.EvaluationWork.Update;
import io.sn11.gpunode.engine.Transformer;
import io.sn11.gpunode.engine.backend.Backend;
import io.sn11.gpunode.engine.backend.Backends;
import io.sn11.gpunode.engine.backend.DeviceMemoryException;
import io.sn11.gpunode.engine.data.Dataset;
import io.sn11.gpunode.engine.eval.EvalResult;
import io.sn11.gpunode.engine.eval.Evaluation;
import io.sn11.gpunode.engine.model.ModelException;
import io.sn11.gpunode.engine.safetensors.SafetensorsException;
import io.sn11.gpunode.engine.tokenizer.ChatTemplate;
import io.sn11.gpunode.engine.tokenizer.Tokenizer;
import io.sn11.gpunode.engine.tokenizer.TokenizerCheck;
import io.sn11.gpunode.judge.JudgeOutcome;
import io.sn11.gpunode.judge.JudgeStep;
import io.sn11.gpunode.store.HubClient;
import io.sn11.gpunode.store.ModelStore;
import io.sn11.gpunode.store.Precheck;
import io.sn11.gpunode.store.PrecheckResult;
import io.sn11.gpunode.store.StoreException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The real evaluation: the model folder from the store (fetched from the Hub when missing), the
 * precheck, then the engine's eval score, creativity and latency on the dataset, the size score, and
 * the judge step: the model writes the last turn of the same samples and the judge compares.
 */
public final class ModelEvaluator implements Evaluator {
  private final GpuNodeSettings settings;
  private final ScoringSettings scoring;
  private final ModelStore store;
  private final Optional<HubClient> hub;
  private final Dataset dataset;
  private final JudgeStep judge;

  /** @param hub empty when models must already be in the store */
  public ModelEvaluator(
      GpuNodeSettings settings, ScoringSettings scoring, ModelStore store, Optional<HubClient> hub, Dataset dataset, JudgeStep judge) {
    this.settings = settings;
    this.scoring = scoring;
    this.store = store;
    this.hub = hub;
    this.dataset = dataset;
    this.judge = judge;
  }

  @Override
  public Update evaluate(Assignment assignment, ProgressSink progress) throws Exception {
    ModelDetails model = assignment.details();
    progress.progress("precheck", 0);
    Path dir;
    try {
      dir = locate(model, progress);
    } catch (StoreException e) {
      return failed(e.getMessage(), e.category());
    }
    PrecheckResult precheck = new Precheck().check(dir, model.revisionOrDefault(), model.chatTemplateType(), scoring.maxModelBytes());
    if (!precheck.passed()) {
      return failed(precheck.reason(), precheck.category().orElse(FailureCategory.MINER));
    }
    String tokenizerProblem = TokenizerCheck.problemWith(dir.resolve("tokenizer.json"));
    if (tokenizerProblem != null) return failed(tokenizerProblem, FailureCategory.MINER);
    progress.running();
    try (Backend backend = Backends.create(settings.backend(), settings.threads());
        Transformer transformer = Transformer.load(dir, backend);
        Tokenizer tokenizer = Tokenizer.load(dir)) {
      GpuNodeSettings.EvaluationSettings e = settings.evaluation();
      ChatTemplate template = ChatTemplate.byName(model.chatTemplateType());
      Evaluation.Options options = new Evaluation.Options(e.samples(), assignment.hash(), template, e.maxTokens(), e.batchSize());
      EvalResult result =
          Evaluation.run(model.repository(), transformer, tokenizer, dataset, options, (scored, total) -> progress.progress("eval", (double) scored / total));
      JudgeOutcome judged =
          judge.run(transformer, tokenizer, template, dataset.select(assignment.hash(), e.samples()), progress::progress);
      if (!judged.succeeded()) return failed(judged.failureReason(), judged.failureCategory());
      return new Completed(scores(result, precheck.weightBytes(), judged.score()), info(result, precheck, judged), judged.verdicts());
    } catch (DeviceMemoryException e) {
      // Another node (or this one, later) may have the memory: not the miner's doing.
      return failed(e.getMessage(), e.category());
    } catch (SafetensorsException | ModelException e) {
      // Passed the precheck's file checks but the engine cannot read it: the repository's fault.
      return failed("the engine cannot load the model: " + e.getMessage(), FailureCategory.MINER);
    }
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

  private Scores scores(EvalResult result, long weightBytes, double judge) {
    double latency = TotalScore.latencyScore(result.latencyMs(), scoring);
    Double total = TotalScore.of(new ScoreInputs(result.evalScore(), result.creativity(), latency, null, judge), scoring);
    return new Scores(
        TotalScore.modelSizeScore(weightBytes, scoring), result.evalScore(), latency, total, null, result.creativity(), null, judge);
  }

  /** What shaped the result, so that it can be reproduced: model content, dataset, engine, backend, settings. */
  private Map<String, String> info(EvalResult result, PrecheckResult precheck, JudgeOutcome judged) {
    Map<String, String> info = new LinkedHashMap<>();
    info.put("content_hash", precheck.contentHash());
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
    info.put("judge", judged.judgeName());
    info.put("judge_valid_verdicts", Integer.toString(judged.validVerdicts()));
    info.put("judge_failed", Integer.toString(judged.failed()));
    info.put("generated_tokens", Integer.toString(judged.generatedTokens()));
    info.put("generation_tokens_per_second", Double.toString(judged.generationTokensPerSecond()));
    return info;
  }

  private static Failed failed(String reason, FailureCategory category) {
    return new Failed(new Failure(reason, category));
  }
}
