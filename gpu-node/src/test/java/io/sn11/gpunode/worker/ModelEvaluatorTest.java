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
import io.sn11.cluster.domain.JudgeIdentity;
import io.sn11.engine.EngineVersion;
import io.sn11.gpunode.judge.EngineJudge;
import io.sn11.gpunode.judge.Judge;
import io.sn11.gpunode.judge.JudgeSettings;
import io.sn11.gpunode.store.DemoModels;
import io.sn11.gpunode.store.FakeHub;
import io.sn11.gpunode.store.FetchRecord;
import io.sn11.gpunode.store.HubClient;
import io.sn11.gpunode.store.ModelStore;
import io.sn11.gpunode.store.Precheck;
import java.util.concurrent.atomic.AtomicInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
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
    FetchRecord firstUse = new ModelStore(store).record("acme", "tiny", "main").orElseThrow();
    assertEquals(FetchRecord.Origin.FIRST_USE, firstUse.origin(), "a folder placed by hand is recorded when first used");
    assertEquals(firstUse.contentHash(), info.get("content_hash"));
    assertEquals(new Precheck().check(store.resolve("acme/tiny/main"), "chatml", Precheck.DEFAULT_MAX_BYTES).contentHash(), info.get("content_hash"));
    assertTrue(Long.parseLong(info.get("content_check_ms")) >= 0);
    assertEquals("cpu", info.get("backend"));
    assertEquals("offline-heuristic-v1", info.get("judge"));
    assertEquals("3", info.get("samples"));
  }

  /**
   * The same model, dataset and settings as before judging moved from the evaluation JVM to the node: the same scores
   * (all but the latency's, which is measured) and the same verdicts, now recording the judge.
   */
  @Test
  void judgingOnTheNodeGivesTheScoresTheEvaluationJvmGave() throws Exception {
    TinyModels.write(store.resolve("acme/tiny/main"), TinyModels.Arch.QWEN2, DType.BF16, 3);
    Completed completed = assertInstanceOf(Completed.class, evaluator().evaluate(assignment("tiny"), new Reports()));

    // measured on main before the split (commit b5b0f78), cpu backend, one thread; the eval's float sums vary in the
    // last digits from run to run (the SIMD kernels' JIT), far below what a change of tokens would make
    assertEquals(0.9999967176053259, completed.scores().modelSizeScore());
    assertEquals(0.0014257242602938515, completed.scores().qualitativeScore(), 1e-9);
    assertEquals(0.9922688038509834, completed.scores().creativityScore(), 1e-9);
    assertEquals(0.0, completed.scores().judgeScore());
    assertEquals(0.0, completed.scores().totalScore());
    assertEquals("48", completed.evaluationInfo().get("generated_tokens"));
    assertEquals("synthetic-11-0041", completed.verdicts().get(0).sampleId());
    assertEquals("original", completed.verdicts().get(0).entertainment());
    JudgeIdentity offline = new JudgeIdentity("offline", "offline-heuristic-v1", null, null);
    assertTrue(completed.verdicts().stream().allMatch(v -> offline.equals(v.judgeIdentity())), completed.verdicts()::toString);
    assertEquals("offline", completed.evaluationInfo().get("judge_kind"));
    assertEquals("offline-heuristic-v1", completed.evaluationInfo().get("judge_model"));
    // the node's tally, recomputed from the stored verdicts: generated wins / (3 x valid verdicts)
    long wins = completed.verdicts().stream().flatMap(v -> java.util.stream.Stream.of(v.realism(), v.entertainment(), v.coherency()))
        .filter("generated"::equals).count();
    assertEquals(wins / (3.0 * completed.verdicts().size()), completed.scores().judgeScore(), 1e-12);
  }

  /** One engine judge for the node, loaded once: two evaluations are judged by it, batched, with its identity. */
  @Test
  void theNodesEngineJudgeIsLoadedOnceAndJudgesEveryEvaluation() throws Exception {
    TinyModels.write(store.resolve("acme/first/main"), TinyModels.Arch.LLAMA, DType.BF16, 1);
    TinyModels.write(store.resolve("acme/second/main"), TinyModels.Arch.MISTRAL, DType.BF16, 2);
    String judgeRepository = DemoModels.ensureJudge(new ModelStore(store));
    Map<String, Object> all = new HashMap<>();
    all.put("sn11.gpu-node.model-store", store.toString());
    all.put("sn11.gpu-node.hub.fetch", false);
    all.put("sn11.gpu-node.backend", "cpu");
    all.put("sn11.gpu-node.threads", 1);
    all.put("sn11.gpu-node.evaluation.samples", 3);
    all.put("sn11.judge.generation.max-new-tokens", 8);
    all.put("sn11.judge.kind", "engine");
    all.put("sn11.judge.model.repository", judgeRepository);
    all.put("sn11.judge.model.batch-size", 2);
    all.put("sn11.judge.model.max-new-tokens", 200);
    Config config = ConfigFactory.parseMap(all).withFallback(ConfigFactory.defaultReference()).resolve();
    AtomicInteger loads = new AtomicInteger();
    EngineJudge.Loader nodeLoader = GpuNodeRole.judgeModels(config);
    try (Judge judge = Judge.create(JudgeSettings.from(config), Map.of(), model -> {
          loads.incrementAndGet();
          return nodeLoader.load(model);
        })) {
      Evaluator evaluator = GpuNodeRole.modelEvaluator(config, judge);
      JudgeIdentity identity = judge.identity();
      assertEquals(new JudgeIdentity("engine", judgeRepository + "@main",
          new Precheck().check(store.resolve(judgeRepository + "/main"), "chatml", Long.MAX_VALUE).contentHash(), EngineVersion.VERSION), identity);
      for (String name : List.of("first", "second")) {
        Reports reports = new Reports();
        Completed completed = assertInstanceOf(Completed.class, evaluator.evaluate(assignment(name), reports));
        assertEquals(List.of("precheck", "RUNNING", "eval", "generate", "judge"), reports.phases);
        assertEquals(3, completed.verdicts().size());
        assertTrue(completed.verdicts().stream().allMatch(v -> v.error() == null && identity.equals(v.judgeIdentity())), completed.verdicts()::toString);
        assertEquals("3", completed.evaluationInfo().get("judge_valid_verdicts"));
        assertEquals("engine", completed.evaluationInfo().get("judge_kind"));
        assertEquals(identity.contentHash(), completed.evaluationInfo().get("judge_content_hash"));
        assertEquals(EngineVersion.VERSION, completed.evaluationInfo().get("judge_engine_version"));
      }
    }
    assertEquals(1, loads.get(), "loaded once for the node, not per evaluation");
  }

  /** What a node's start makes of a judge model it cannot use: an error naming it (the start stops there). */
  @Test
  void aJudgeModelTheNodeCannotUseIsAnErrorNamingIt() throws Exception {
    Path notAModel = Files.createDirectories(store.resolve("judges/empty"));
    for (Map<String, Object> judge :
        List.<Map<String, Object>>of(
            Map.of("sn11.judge.kind", "engine", "sn11.judge.model.path", notAModel.toString()),
            Map.of("sn11.judge.kind", "engine", "sn11.judge.model.repository", "acme/absent-judge"))) {
      Map<String, Object> all = new HashMap<>(judge);
      all.put("sn11.gpu-node.model-store", store.toString());
      all.put("sn11.gpu-node.hub.fetch", false);
      Config config = ConfigFactory.parseMap(all).withFallback(ConfigFactory.defaultReference()).resolve();
      IllegalStateException refused =
          org.junit.jupiter.api.Assertions.assertThrows(
              IllegalStateException.class, () -> Judge.create(JudgeSettings.from(config), Map.of(), GpuNodeRole.judgeModels(config)));
      String named = judge.containsKey("sn11.judge.model.path") ? notAModel.toString() : "acme/absent-judge@main";
      assertTrue(refused.getMessage().startsWith("the judge model " + named), refused.getMessage());
    }
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

  /** Checked against its record first, a folder without config.json stays the miner's failure: it was recorded so. */
  @Test
  void aModelWithoutConfigIsStillTheMinersFault() throws Exception {
    Path model = store.resolve("acme/configless/main");
    TinyModels.write(model, TinyModels.Arch.LLAMA, DType.BF16, 1);
    Files.delete(model.resolve("config.json"));
    Failed failed = assertInstanceOf(Failed.class, evaluator().evaluate(assignment("configless"), new Reports()));
    assertEquals(FailureCategory.MINER, failed.failure().category(), failed.failure().reason());
    assertTrue(failed.failure().reason().contains("config.json missing"), failed.failure().reason());
  }

  @Test
  void aModelMissingFromTheStoreWithFetchingOffIsTheMinersFault() throws Exception {
    Failed failed = assertInstanceOf(Failed.class, evaluator().evaluate(assignment("absent"), new Reports()));
    assertEquals(FailureCategory.MINER, failed.failure().category());
    assertTrue(failed.failure().reason().contains("not in the model store"), failed.failure().reason());
  }
  /**
   * The subnet's incident: a model file on the node's disk replaced after the fetch. The attempt fails as ours, naming
   * the file and both digests; the model and its record leave the store, and the next attempt fetches it again and
   * completes with the fetched content's hash.
   */
  @Test
  void aWeightFileSwappedAfterTheFetchFailsTheAttemptAsInfrastructureAndTheNextFetchesAgain(@TempDir Path source) throws Exception {
    TinyModels.write(source, TinyModels.Arch.QWEN2, DType.BF16, 3);
    String fetchedHash = new Precheck().check(source, "chatml", Precheck.DEFAULT_MAX_BYTES).contentHash();
    try (FakeHub hub = new FakeHub()) {
      FakeHub.Repo repo = hub.repo("acme", "fetched", "0123456789abcdef0123456789abcdef01234567");
      try (var files = Files.list(source)) {
        for (Path file : files.toList()) {
          String name = file.getFileName().toString();
          if (name.endsWith(".safetensors")) repo.lfsFile(name, Files.readAllBytes(file));
          else repo.file(name, Files.readAllBytes(file));
        }
      }
      ModelStore modelStore = new ModelStore(store);
      Path fetched = modelStore.ensure(new HubClient(HubClient.Config.builder().endpoint(hub.endpoint()).build()), "acme", "fetched", "main", null);
      TinyModels.write(store.resolve("other"), TinyModels.Arch.QWEN2, DType.BF16, 4);
      Files.copy(store.resolve("other/model.safetensors"), fetched.resolve("model.safetensors"), StandardCopyOption.REPLACE_EXISTING);
      String swappedSha256 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(fetched.resolve("model.safetensors"))));
      Evaluator evaluator = evaluator(Map.of("sn11.gpu-node.hub.fetch", true, "sn11.gpu-node.hub.endpoint", hub.endpoint().toString()));

      Reports reports = new Reports();
      Failed failed = assertInstanceOf(Failed.class, evaluator.evaluate(assignment("fetched"), reports));
      String reason = failed.failure().reason();
      assertEquals(FailureCategory.INFRASTRUCTURE, failed.failure().category(), reason);
      assertTrue(reason.contains("model.safetensors: recorded sha256 " + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(source.resolve("model.safetensors"))))), reason);
      assertTrue(reason.contains("loaded sha256 " + swappedSha256), reason);
      assertTrue(reason.contains("content hash recorded " + fetchedHash), reason);
      assertEquals(List.of("precheck"), reports.phases, "the mismatch is found before the model runs");
      assertTrue(modelStore.find("acme", "fetched", "main").isEmpty(), "the changed model left the store");
      assertTrue(modelStore.record("acme", "fetched", "main").isEmpty(), "and its record");

      long downloads = hub.count("model.safetensors");
      Completed completed = assertInstanceOf(Completed.class, evaluator.evaluate(assignment("fetched"), new Reports()));
      assertTrue(hub.count("model.safetensors") > downloads, "fetched again");
      assertEquals(fetchedHash, completed.evaluationInfo().get("content_hash"));
    }
  }

  /**
   * A config.json changed after it was recorded is caught, as is a weight file the engine cannot even open: either is
   * our disk's doing, not the miner's. With fetching off the model stays, failing the same way until it is repaired.
   */
  @Test
  void aChangedConfigOrAnUnreadableSwappedWeightFileIsOursNotTheMiners() throws Exception {
    Path model = store.resolve("acme/tiny/main");
    TinyModels.write(model, TinyModels.Arch.LLAMA, DType.BF16, 2);
    new ModelStore(store).recordOrFirstUse("acme", "tiny", "main");
    Path config = model.resolve("config.json");
    Files.writeString(config, Files.readString(config).replace("{", "{\"torch_dtype\": \"float32\", "));

    Failed changedConfig = assertInstanceOf(Failed.class, evaluator().evaluate(assignment("tiny"), new Reports()));
    assertEquals(FailureCategory.INFRASTRUCTURE, changedConfig.failure().category(), changedConfig.failure().reason());
    assertTrue(changedConfig.failure().reason().contains("config.json: recorded sha256 "), changedConfig.failure().reason());
    assertTrue(new ModelStore(store).find("acme", "tiny", "main").isPresent(), "with fetching off the model stays");

    new ModelStore(store).delete("acme", "tiny", "main");
    TinyModels.write(model, TinyModels.Arch.LLAMA, DType.BF16, 2);
    new ModelStore(store).recordOrFirstUse("acme", "tiny", "main");
    Files.write(model.resolve("model.safetensors"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});

    Failed unreadable = assertInstanceOf(Failed.class, evaluator().evaluate(assignment("tiny"), new Reports()));
    assertEquals(FailureCategory.INFRASTRUCTURE, unreadable.failure().category(), unreadable.failure().reason());
    assertTrue(unreadable.failure().reason().contains("model.safetensors: recorded sha256 "), unreadable.failure().reason());
  }
}
