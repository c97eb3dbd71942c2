package io.sn11.gpunode.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.sn11.cluster.domain.FailureCategory;
import io.sn11.cluster.domain.ModelDetails;
import io.sn11.cluster.work.EvaluationWork.Assignment;
import io.sn11.cluster.work.EvaluationWork.Completed;
import io.sn11.cluster.work.EvaluationWork.Failed;
import io.sn11.cluster.work.EvaluationWork.Update;
import io.sn11.engine.safetensors.DType;
import io.sn11.engine.tiny.TinyModels;
import io.sn11.gpunode.judge.Judge;
import io.sn11.gpunode.judge.JudgeSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real evaluator on a model store folder, without a cluster: what it reports and what it returns. Each evaluation
 * runs in a JVM of its own, as on a node.
 */
class ModelEvaluatorTest {
  @TempDir Path store;

  private Evaluator evaluator() {
    return evaluator(Map.of());
  }

  private Evaluator evaluator(Map<String, Object> settings) {
    return evaluator(store, settings);
  }

  /** The node's evaluator on the cpu backend over {@code store}, three short samples, and {@code settings} on top. */
  static Evaluator evaluator(Path store, Map<String, Object> settings) {
    Map<String, Object> all = new HashMap<>();
    all.put("sn11.gpu-node.model-store", store.toString());
    all.put("sn11.gpu-node.hub.fetch", false);
    all.put("sn11.gpu-node.backend", "cpu");
    all.put("sn11.gpu-node.threads", 1);
    all.put("sn11.gpu-node.evaluation.samples", 3);
    all.put("sn11.judge.generation.max-new-tokens", 16);
    all.putAll(settings);
    Config config = ConfigFactory.parseMap(all).withFallback(ConfigFactory.defaultReference()).resolve();
    return GpuNodeRole.modelEvaluator(config, Judge.create(JudgeSettings.from(config), Map.of(), GpuNodeRole.judgeModels(config)));
  }

  /** An assignment of {@code acme/<name>}, chatml, at revision main. */
  static Assignment assignment(String name) {
    return new Assignment("42", 1, new ModelDetails("42", "acme", name, "chatml", "5Hotkey", 100, null, null), Duration.ofSeconds(5));
  }

  /** Records what the evaluation reported, in order. */
  static final class Reports implements Evaluator.ProgressSink {
    final List<String> phases = new ArrayList<>();

    @Override
    public void running() {
      phases.add("RUNNING");
    }

    @Override
    public void progress(String phase, double fraction) {
      assertTrue(fraction >= 0 && fraction <= 1, phase + " " + fraction);
      if (phases.isEmpty() || !phases.get(phases.size() - 1).equals(phase)) phases.add(phase);
    }
  }

  @Test
  void aModelInTheStoreIsScoredAndJudged() throws Exception {
    TinyModels.write(store.resolve("acme/tiny/main"), TinyModels.Arch.QWEN2, DType.BF16, 3);
    Reports reports = new Reports();
    Update outcome = evaluator().evaluate(assignment("tiny"), reports);

    Completed completed = assertInstanceOf(Completed.class, outcome, outcome::toString);
    assertEquals(List.of("precheck", "RUNNING", "eval", "generate", "judge"), reports.phases);
    assertNotNull(completed.scores().qualitativeScore());
    assertNotNull(completed.scores().judgeScore());
    assertEquals(completed.scores().judgeScore(), completed.scores().totalScore(), "the judge rule: total = judge score");
    assertEquals(3, completed.verdicts().size(), "one verdict per sample");
    Map<String, String> info = completed.evaluationInfo();
    assertEquals(64, info.get("content_hash").length());
    assertEquals("cpu", info.get("backend"));
    assertEquals("offline-heuristic-v1", info.get("judge"));
    assertEquals("3", info.get("samples"));
  }

  @Test
  void pickleWeightsFailThePrecheckAsTheMinersFault() throws Exception {
    Path model = store.resolve("acme/pickled/main");
    TinyModels.write(model, TinyModels.Arch.LLAMA, DType.F32, 1);
    Files.write(model.resolve("pytorch_model.bin"), new byte[] {1, 2, 3});
    Reports reports = new Reports();
    Update outcome = evaluator().evaluate(assignment("pickled"), reports);

    Failed failed = assertInstanceOf(Failed.class, outcome, outcome::toString);
    assertEquals(FailureCategory.MINER, failed.failure().category());
    assertTrue(failed.failure().reason().contains("pytorch_model.bin"), failed.failure().reason());
    assertEquals(List.of("precheck"), reports.phases, "a failed precheck never reaches RUNNING");
  }

  /**
   * The model: 4 heads of 2^30 + 16 wrap around to a q/k/v width of 64 in int arithmetic, which the 64-wide
   * weights matched, and the evaluation then ran out of memory on the rope table. The exact width is refused first.
   */
  @Test
  void headDimensionsOverflowingTheEngineFailThePrecheckAsTheMinersFault() throws Exception {
    Path model = store.resolve("acme/overflowing/main");
    TinyModels.write(model, TinyModels.Arch.LLAMA, DType.BF16, 1, TinyModels.Shape.TINY.withKvHeads(4));
    ObjectNode config = (ObjectNode) new ObjectMapper().readTree(model.resolve("config.json").toFile());
    config.put("head_dim", (1 << 30) + 16);
    new ObjectMapper().writeValue(model.resolve("config.json").toFile(), config);
    Reports reports = new Reports();
    Update outcome = evaluator().evaluate(assignment("overflowing"), reports);

    Failed failed = assertInstanceOf(Failed.class, outcome, outcome::toString);
    assertEquals(FailureCategory.MINER, failed.failure().category());
    assertTrue(failed.failure().reason().contains("num_attention_heads 4 x head_dim 1073741840 = 4294967360"), failed.failure().reason());
    assertEquals(List.of("precheck"), reports.phases, "refused before anything of the model is allocated");
  }

  /** Within every limit, so past the precheck, but its MLP activations need far more than the evaluation JVM's heap. */
  @Test
  void aModelExhaustingTheEvaluationsMemoryAfterThePrecheckIsTheMinersFault() throws Exception {
    TinyModels.write(store.resolve("acme/wide/main"), TinyModels.Arch.LLAMA, DType.BF16, 1, TinyModels.Shape.TINY.withIntermediate(1 << 16));
    Reports reports = new Reports();
    Update outcome = evaluator(Map.of("sn11.gpu-node.evaluation.child.max-heap", "64m")).evaluate(assignment("wide"), reports);

    Failed failed = assertInstanceOf(Failed.class, outcome, outcome::toString);
    assertEquals(FailureCategory.MINER, failed.failure().category(), failed.failure().reason());
    assertTrue(failed.failure().reason().startsWith("the model ran out of the evaluation's memory (heap 67108864 bytes"), failed.failure().reason());
    assertTrue(failed.failure().reason().contains("OutOfMemoryError"), failed.failure().reason());
    assertEquals(List.of("precheck", "RUNNING"), reports.phases.subList(0, 2));
  }

  @Test
  void aModelMissingFromTheStoreWithFetchingOffIsTheMinersFault() throws Exception {
    Failed failed = assertInstanceOf(Failed.class, evaluator().evaluate(assignment("absent"), new Reports()));
    assertEquals(FailureCategory.MINER, failed.failure().category());
    assertTrue(failed.failure().reason().contains("not in the model store"), failed.failure().reason());
  }
}
