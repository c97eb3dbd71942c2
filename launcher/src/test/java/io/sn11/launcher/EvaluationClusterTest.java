package io.sn11.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sn11.cluster.node.Sn11Node;
import io.sn11.coordinator.http.ApiNode;
import io.sn11.coordinator.http.ApiNode.Model;
import io.sn11.coordinator.testing.Eventually;
import io.sn11.gpunode.worker.Evaluator;
import io.sn11.gpunode.worker.GpuNodeRole;
import io.sn11.gpunode.commands.EvaluateChildCommand;
import io.sn11.engine.data.SyntheticDataset;
import io.sn11.engine.tiny.TinyModels;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A coordinator node and gpu-nodes, each its own actor system joined over loopback, talking through
 * the real protocol: the dispatcher's work pulling, claims, leases, progress and results. Models are
 * real random-weight folders in a model store, evaluated by the real engine on the cpu backend and
 * judged by the offline judge.
 */
class EvaluationClusterTest {
  private static final Duration EVALUATION_DEADLINE = Duration.ofMinutes(3);

  @TempDir static Path dir;
  private static TestCluster cluster;
  private static ApiNode coordinator;

  @BeforeAll
  static void startCoordinator() throws Exception {
    cluster = TestCluster.start(dir);
    coordinator = cluster.coordinator;
  }

  @AfterAll
  static void stopCoordinator() throws Exception {
    if (cluster != null) cluster.close();
  }

  private static Sn11Node startGpuNode(String name, GpuNodeRole role) throws Exception {
    return cluster.startGpuNode(name, role);
  }

  /** The evaluation JVMs of {@code model} that gpu-nodes in this JVM run now. */
  private static List<ProcessHandle> evaluationProcesses(Model model) {
    String named = "-D" + EvaluateChildCommand.MODEL_PROPERTY + "=" + model.hash() + " ";
    return ProcessHandle.current().descendants().filter(p -> p.isAlive() && p.info().commandLine().orElse("").contains(named)).toList();
  }

  /** The reason a model's attempt was re-queued with, from its events. */
  private static String requeuedReason(Model model) throws Exception {
    for (JsonNode e : coordinator.get("/models/" + model.hash() + "/events").expect(200).body().path("events")) {
      if (e.path("type").asText().equals("Requeued")) return e.path("event").path("reason").asText();
    }
    throw new AssertionError("model " + model.hash() + " was never re-queued: " + eventTypes(model));
  }

  private static Model model(String name, String hotkeySeed) {
    return ApiNode.model("sn11-demo", name, ApiNode.hotkey(hotkeySeed), 1_000);
  }

  private static JsonNode details(Model model) throws Exception {
    return details(coordinator, model);
  }

  private static JsonNode details(ApiNode on, Model model) throws Exception {
    return on.get("/model_submission_details?" + ApiNode.query(model.queryFields())).expect(200).body();
  }

  private static JsonNode awaitStatus(Model model, String status) throws Exception {
    return awaitStatus(coordinator, model, status);
  }

  private static JsonNode awaitStatus(ApiNode on, Model model, String status) throws Exception {
    AtomicReference<JsonNode> last = new AtomicReference<>();
    Eventually.await(EVALUATION_DEADLINE, () -> {
      last.set(details(on, model));
      return status.equals(last.get().path("status").asText());
    });
    return last.get();
  }

  /** The node's /metrics from its management port. */
  private static String scrape(Sn11Node node) throws Exception {
    java.net.URI metrics = java.net.URI.create(node.managementUri().toString() + "/metrics");
    return java.net.http.HttpClient.newHttpClient()
        .send(java.net.http.HttpRequest.newBuilder(metrics).GET().build(), java.net.http.HttpResponse.BodyHandlers.ofString())
        .body();
  }

  private static List<String> eventTypes(Model model) throws Exception {
    List<String> types = new ArrayList<>();
    coordinator.get("/models/" + model.hash() + "/events").expect(200).body().path("events").forEach(e -> types.add(e.path("type").asText()));
    return types;
  }

  @Test
  void aTinyModelIsEvaluatedToCompletionAndAModelMissingFromTheStoreFailsAsTheMinersFault() throws Exception {
    try (Sn11Node gpuNode = startGpuNode("gpu-real", new GpuNodeRole())) {
      Model tiny = model("tiny-llama", "completes");
      Model missing = model("not-in-the-store", "fails");
      coordinator.adminPost("/evaluate_model", tiny.json()).expect(200);
      coordinator.adminPost("/evaluate_model", missing.json()).expect(200);

      JsonNode completed = awaitStatus(tiny, "COMPLETED");
      JsonNode score = completed.path("score");
      for (String measured : List.of("model_size_score", "qualitative_score", "latency_score", "creativity_score", "judge_score")) {
        double value = score.path(measured).asDouble(-1);
        assertTrue(value >= 0 && value <= 1, () -> measured + " in [0, 1]: " + score);
      }
      assertEquals(score.path("judge_score").asDouble(), score.path("total_score").asDouble(), "the total is the judge score: " + score);
      JsonNode evaluation = completed.path("details").path("evaluation");
      assertEquals("offline-heuristic-v1", evaluation.path("judge").asText());
      assertEquals("4", evaluation.path("judge_valid_verdicts").asText());

      // The verdicts are read from the read side, which follows the journal a moment later.
      JsonNode page =
          ApiNode.await(
              "the verdicts on the read side",
              () -> coordinator.get("/models/" + tiny.hash() + "/verdicts?page=2&page_size=3").expect(200).body(),
              answer -> answer.path("total").asInt() > 0);
      assertEquals(4, page.path("total").asInt(), "one verdict per sample: " + page);
      assertEquals(1, page.path("attempt").asInt());
      assertEquals(1, page.path("verdicts").size(), "the second page of three holds the fourth verdict: " + page);
      JsonNode verdict = page.path("verdicts").get(0);
      assertFalse(verdict.path("original_reply").asText().isEmpty(), verdict::toString);
      assertTrue(List.of("original", "generated", "tie").contains(verdict.path("realism").asText()), verdict::toString);
      assertEquals("offline-heuristic-v1", verdict.path("judge").asText());
      coordinator.get("/models/" + tiny.hash() + "/verdicts?page_size=101").expectError(400, "page_size");
      coordinator.get("/models/" + tiny.hash() + "/verdicts?page=0").expectError(400, "page");
      assertEquals(64, evaluation.path("content_hash").asText().length(), "content hash recorded: " + evaluation);
      assertEquals("cpu", evaluation.path("backend").asText());
      assertEquals("4", evaluation.path("samples").asText());
      assertFalse(evaluation.path("dataset_version").asText().isEmpty());
      assertFalse(evaluation.path("engine_version").asText().isEmpty());
      List<String> history = eventTypes(tiny);
      assertEquals("Submitted", history.get(0));
      assertTrue(history.containsAll(List.of("PrecheckStarted", "RunningStarted", "ProgressReported")), history::toString);
      assertEquals("EvaluationCompleted", history.get(history.size() - 1));

      String coordinatorMetrics = scrape(coordinator.node());
      for (String expected :
          List.of(
              "sn11_evaluation_attempts_total{category=\"\",outcome=\"completed\"}",
              "sn11_evaluation_attempts_total{category=\"\",outcome=\"started\"}",
              "sn11_http_request_seconds_count{route=\"evaluate_model\",status=\"200\"}",
              "sn11_models{status=\"COMPLETED\"}",
              "sn11_cluster_members{role=\"gpu-node\",status=\"Up\"} 1",
              "sn11_entity_command_seconds_count{command=\"Complete\"}",
              "sn11_journal_write_seconds_count{outcome=\"ok\"}")) {
        assertTrue(coordinatorMetrics.contains(expected), () -> "coordinator /metrics should have " + expected + ":\n" + coordinatorMetrics);
      }
      String workerMetrics = scrape(gpuNode);
      for (String expected :
          List.of("sn11_evaluation_phase_seconds_count{phase=\"eval\"}", "sn11_tokens_per_second{backend=\"cpu\",kind=\"scoring\"}")) {
        assertTrue(workerMetrics.contains(expected), () -> "gpu-node /metrics should have " + expected + ":\n" + workerMetrics);
      }

      JsonNode failed = awaitStatus(missing, "FAILED");
      JsonNode failure = failed.path("details").path("failure");
      assertEquals("miner", failure.path("category").asText());
      assertTrue(failure.path("reason").asText().contains("not in the model store"), failure::toString);
      assertEquals(1, failed.path("details").path("attempt").asInt(), "a miner's fault is not retried");
    }
  }

  /**
   * {@code sn11 serve --judge-model demo}'s settings on a gpu-node: the demo judge is loaded once, at the node's start,
   * and judges both models, batched; results and stored verdicts name it. In a cluster of its own: another judge is
   * another scoring fingerprint, and the shared cluster requires its first node's.
   */
  @Test
  void withTheDemoJudgeModelTheNodesResidentEngineJudgeJudgesEveryModel(@TempDir Path own) throws Exception {
    JudgeOptions demo = new JudgeOptions();
    demo.judgeModel = JudgeOptions.DEMO;
    Map<String, Object> settings = new HashMap<>();
    demo.putInto(settings);
    settings.put("sn11.judge.model.batch-size", 3);
    settings.put("sn11.judge.model.max-new-tokens", 200);
    AtomicInteger loads = new AtomicInteger();
    GpuNodeRole countingLoads = new GpuNodeRole(loader -> model -> {
      loads.incrementAndGet();
      return loader.load(model);
    });
    try (TestCluster judged = TestCluster.start(own)) {
      demo.ensureDemoJudge(judged.modelStore());
      try (Sn11Node gpuNode = judged.startGpuNode("gpu-engine-judge", countingLoads, settings)) {
        List<Model> models = List.of(model("tiny-llama", "engine-judge-1"), model("tiny-llama", "engine-judge-2"));
        for (Model m : models) judged.coordinator.adminPost("/evaluate_model", m.json()).expect(200);
        for (Model m : models) {
          JsonNode evaluation = awaitStatus(judged.coordinator, m, "COMPLETED").path("details").path("evaluation");
          assertEquals("engine[sn11-demo/tiny-judge@main]", evaluation.path("judge").asText(), evaluation::toString);
          assertEquals("engine", evaluation.path("judge_kind").asText());
          assertEquals("sn11-demo/tiny-judge@main", evaluation.path("judge_model").asText());
          assertEquals(64, evaluation.path("judge_content_hash").asText().length());
          assertEquals("4", evaluation.path("judge_valid_verdicts").asText(), "schema-valid verdicts from random weights");
          JsonNode page = ApiNode.await("the verdicts on the read side",
              () -> judged.coordinator.get("/models/" + m.hash() + "/verdicts").expect(200).body(), answer -> answer.path("total").asInt() > 0);
          for (JsonNode verdict : page.path("verdicts")) {
            assertEquals("engine", verdict.at("/judge_identity/kind").asText(), verdict::toString);
            assertEquals(evaluation.path("judge_content_hash").asText(), verdict.at("/judge_identity/content_hash").asText());
            assertEquals(evaluation.path("judge_engine_version").asText(), verdict.at("/judge_identity/engine_version").asText());
          }
        }
      }
    }
    assertEquals(1, loads.get(), "one judge for the node, resident across its evaluations");
  }

  @Test
  void aWorkerStoppedMidEvaluationLeavesTheModelRequeuedThenAnotherNodeCompletesIt() throws Exception {
    Evaluator hangsAfterStarting =
        (assignment, progress) -> {
          progress.running();
          progress.progress("eval", 0.25);
          while (true) { // until the node stops and cancels it: progress then throws
            Thread.sleep(20);
            progress.progress("eval", 0.25);
          }
        };
    Model model = model("tiny-llama", "survives-a-lost-worker");
    try (Sn11Node doomed = startGpuNode("gpu-doomed", new GpuNodeRole((config, judge) -> hangsAfterStarting))) {
      coordinator.adminPost("/evaluate_model", model.json()).expect(200);
      JsonNode midway = awaitStatus(model, "RUNNING");
      assertEquals(1, midway.path("details").path("attempt").asInt());
      Eventually.await(EVALUATION_DEADLINE, () -> "eval".equals(details(model).path("details").path("progress").path("phase").asText()));
    }
    JsonNode requeued = awaitStatus(model, "QUEUED");
    assertEquals(1, requeued.path("details").path("attempt").asInt());
    assertTrue(eventTypes(model).contains("Requeued"));

    try (Sn11Node rescuer = startGpuNode("gpu-rescuer", new GpuNodeRole())) {
      JsonNode completed = awaitStatus(model, "COMPLETED");
      assertEquals(2, completed.path("details").path("attempt").asInt());
      JsonNode requeuedEvent = null;
      for (JsonNode e : coordinator.get("/models/" + model.hash() + "/events").body().path("events")) {
        if (e.path("type").asText().equals("Requeued")) requeuedEvent = e.path("event");
      }
      String reason = requeuedEvent.path("reason").asText();
      assertTrue(reason.contains("attempt 1 of 3 failed (infrastructure)"), reason);
    }
  }

  /**
   * Within every limit, so past the precheck, but its MLP activations need far more than a 64 MiB heap: its evaluation
   * JVM runs out of memory, the miner's fault, and the node goes on to the next model.
   */
  @Test
  void aModelExhaustingItsEvaluationsMemoryFailsAsTheMinersAndTheNodeEvaluatesTheNextModel() throws Exception {
    cluster.addModel("tiny-wide", TinyModels.Shape.TINY.withIntermediate(1 << 16));
    Model wide = model("tiny-wide", "exhausts-its-memory");
    Model next = model("tiny-llama", "after-an-exhausted-evaluation");
    try (Sn11Node gpuNode = cluster.startGpuNode("gpu-small-heap", new GpuNodeRole(), Map.of("sn11.gpu-node.evaluation.child.max-heap", "64m"))) {
      coordinator.adminPost("/evaluate_model", wide.json()).expect(200);
      JsonNode failed = awaitStatus(wide, "FAILED");
      JsonNode failure = failed.path("details").path("failure");
      assertEquals("miner", failure.path("category").asText(), failure::toString);
      assertTrue(failure.path("reason").asText().startsWith("the model ran out of the evaluation's memory"), failure::toString);
      assertEquals(1, failed.path("details").path("attempt").asInt(), "a miner's fault is not retried");
      assertTrue(eventTypes(wide).contains("RunningStarted"), "it failed after the precheck passed");

      coordinator.adminPost("/evaluate_model", next.json()).expect(200);
      assertEquals(1, awaitStatus(next, "COMPLETED").path("details").path("attempt").asInt());
    }
  }

  /**
   * The evaluation JVM is killed from outside (as the kernel's OOM killer would) while it reads the dataset after the
   * precheck: the attempt fails as ours and is retried, and the node evaluates the model and the next one. The dataset
   * is a named pipe that the test holds open, so that the JVM is certainly mid-run when it dies.
   */
  @Test
  void anEvaluationProcessKilledMidRunIsRetriedAndTheNodeEvaluatesTheNextModel() throws Exception {
    Path dataset = dir.resolve("held-dataset.jsonl");
    // The conversations of the default synthetic dataset: the node's scoring fingerprint is the other nodes' here.
    byte[] conversations = SyntheticDataset.generate(11, 256).toJsonl();
    Files.write(dataset, conversations);
    Model model = model("tiny-llama", "outlives-its-evaluation-process");
    Model next = model("tiny-llama", "after-a-killed-evaluation-process");
    try (Sn11Node gpuNode = cluster.startGpuNode("gpu-killed-child", new GpuNodeRole(), Map.of("sn11.gpu-node.evaluation.dataset", dataset.toString()))) {
      // The node has read the file for its fingerprint; its first evaluation finds a pipe in its place.
      Files.delete(dataset);
      assertEquals(0, new ProcessBuilder("mkfifo", dataset.toString()).inheritIO().start().waitFor(), "mkfifo");
      coordinator.adminPost("/evaluate_model", model.json()).expect(200);
      // Opening the pipe for writing returns once the evaluation JVM has opened it to read: it is past the precheck.
      CompletableFuture<OutputStream> holding = CompletableFuture.supplyAsync(() -> {
        try {
          return Files.newOutputStream(dataset);
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      try (OutputStream held = holding.get(EVALUATION_DEADLINE.toSeconds(), TimeUnit.SECONDS)) {
        // Later attempts read a plain file; this one waits on the pipe, which gets no data, until it is killed.
        Files.delete(dataset);
        Files.write(dataset, conversations);
        List<ProcessHandle> evaluations = evaluationProcesses(model);
        assertEquals(1, evaluations.size(), evaluations::toString);
        evaluations.get(0).destroyForcibly();
      }

      JsonNode completed = awaitStatus(model, "COMPLETED");
      assertEquals(2, completed.path("details").path("attempt").asInt());
      String reason = requeuedReason(model);
      assertTrue(reason.contains("attempt 1 of 3 failed (infrastructure)") && reason.contains("(signal 9)"), reason);
      List<String> history = eventTypes(model);
      assertTrue(history.indexOf("RunningStarted") < history.indexOf("Requeued"), "killed after the precheck: " + history);

      coordinator.adminPost("/evaluate_model", next.json()).expect(200);
      assertEquals(1, awaitStatus(next, "COMPLETED").path("details").path("attempt").asInt());
    }
  }

  /**
   * An attempt the coordinator no longer runs (here: a result imported meanwhile) is stopped by its worker, which takes
   * the next model at once instead of evaluating on for nothing.
   */
  @Test
  void aWorkerWhoseAttemptIsOverStopsItAndTakesTheNextModel() throws Exception {
    CountDownLatch stopped = new CountDownLatch(2);
    Evaluator runsUntilStopped =
        (assignment, progress) -> {
          progress.running();
          try {
            while (true) {
              progress.progress("eval", 0.5);
              Thread.sleep(20);
            }
          } catch (InterruptedException | CancellationException e) {
            stopped.countDown();
            throw e;
          }
        };
    Model superseded = model("tiny-llama", "superseded-while-running");
    Model next = model("tiny-llama", "taken-after-a-superseded-one");
    try (Sn11Node gpuNode = startGpuNode("gpu-superseded", new GpuNodeRole((config, judge) -> runsUntilStopped))) {
      coordinator.adminPost("/evaluate_model", superseded.json()).expect(200);
      awaitStatus(superseded, "RUNNING");
      coordinator.importJudgeScore(superseded, 0.5).expect(200);
      coordinator.adminPost("/evaluate_model", next.json()).expect(200);
      awaitStatus(next, "RUNNING");
      coordinator.importJudgeScore(next, 0.5).expect(200);
      assertTrue(stopped.await(EVALUATION_DEADLINE.toSeconds(), TimeUnit.SECONDS), "both evaluations were stopped");
    }
  }
}
