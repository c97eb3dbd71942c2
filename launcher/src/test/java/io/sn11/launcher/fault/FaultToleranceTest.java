package io.sn11.launcher.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sn11.coordinator.http.ApiNode;
import io.sn11.coordinator.http.ApiNode.Model;
import io.sn11.launcher.fault.ClusterProcesses.Node;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults with real processes: coordinators and gpu-nodes each in their own JVM on 127.0.0.1, one
 * embedded PostgreSQL, driven over HTTP; the journal is checked afterwards. Each test starts its own
 * cluster and database.
 */
@Tag("fault")
@Timeout(value = 8, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class FaultToleranceTest {
  private static final Duration EVALUATION = Duration.ofMinutes(3);
  private static final Duration RECOVERY = Duration.ofMinutes(2);
  /** How long PostgreSQL stays down under load. */
  private static final Duration OUTAGE = Duration.ofSeconds(5);
  /** Long enough that the node is still evaluating when the test strikes it (a few seconds more than the demo's). */
  private static final String SLOW_EVALUATION = "sn11.gpu-node.evaluation.samples = 24\nsn11.judge.generation.max-new-tokens = 96\n";

  @TempDir Path tmp;

  @Test
  void aGpuNodeKilledWhileEvaluatingLeavesItsModelToTheOtherNode() throws Exception {
    try (ClusterProcesses cluster = ClusterProcesses.start(tmp)) {
      Node a = cluster.coordinator("coordinator-a", "").start();
      Node b = cluster.coordinator("coordinator-b", "", a);
      List<Node> gpuNodes = List.of(cluster.gpuNode("gpu-1", SLOW_EVALUATION, a, b), cluster.gpuNode("gpu-2", SLOW_EVALUATION, a, b));
      ClusterProcesses.startAll(b, gpuNodes.get(0), gpuNodes.get(1));
      ApiNode api = b.api();
      Model model = ApiNode.model("sn11-demo", "tiny-llama", ApiNode.hotkey("gpu-node-killed"), 1_000);
      api.adminPost("/evaluate_model", model.json()).expect(200);

      Node victim = awaitRunningOn(api, model, gpuNodes);
      Node survivor = other(gpuNodes, victim);
      victim.kill();
      long killed = System.nanoTime();
      String secondWorker = ApiNode.await("attempt 2 claimed", RECOVERY, () -> worker(api, model, 2), w -> w != null);
      long millisToElsewhere = millisSince(killed);
      assertTrue(secondWorker.startsWith(survivor.workerPrefix()), secondWorker);

      awaitStatus(api, model, "COMPLETED");
      assertEquals(1, cluster.journalEvents(model.hash(), "EvaluationCompleted"), () -> "journal: " + journal(cluster, model));
      System.out.printf("FAULT gpu-node kill -9 -> its model claimed on the other gpu-node: %d ms%n", millisToElsewhere);
    }
  }

  @Test
  void aCoordinatorKilledHandsItsEntitiesToTheSurvivor() throws Exception {
    try (ClusterProcesses cluster = ClusterProcesses.start(tmp)) {
      Node a = cluster.coordinator("coordinator-a", "").start();
      Node b = cluster.coordinator("coordinator-b", "", a);
      ClusterProcesses.startAll(b, cluster.gpuNode("gpu-1", "", a, b));
      ApiNode viaA = a.api();
      ApiNode survivor = b.api();

      // Entities spread over both coordinators: imported results (records that no evaluation changes)
      // and submissions (evaluated meanwhile: they fail, not being in the model store).
      List<Model> imported = new ArrayList<>();
      List<Model> accepted = new ArrayList<>();
      for (int i = 0; i < 12; i++) {
        ApiNode via = i % 2 == 0 ? viaA : survivor;
        Model result = ApiNode.model("imports", "imported-" + i, ApiNode.hotkey("imported-" + i), 1_000 + i);
        via.adminPost("/admin/results", imported(result, 0.05 * (i + 1))).expect(200);
        imported.add(result);
        Model submission = ApiNode.model("miners", "submitted-" + i, ApiNode.hotkey("submitted-" + i), 1_000 + i);
        via.adminPost("/check_model", submission.json()).expect(200);
        accepted.add(submission);
      }
      Map<String, JsonNode> records = new LinkedHashMap<>();
      for (Model model : imported) records.put(model.hash(), details(survivor, model).expect(200).body());

      a.kill();
      long killed = System.nanoTime();
      ApiNode.await("every imported record answering on the survivor", RECOVERY, () -> answering(survivor, imported), records::equals);
      long millisToAnswering = millisSince(killed);

      // Submissions go on through the survivor; every accepted one, before or after the kill, is there.
      for (int i = 0; i < 4; i++) {
        Model submission = ApiNode.model("miners", "after-kill-" + i, ApiNode.hotkey("after-kill-" + i), 2_000 + i);
        survivor.adminPost("/check_model", submission.json()).expect(200);
        accepted.add(submission);
      }
      for (Model model : accepted) {
        assertEquals(model.hash(), details(survivor, model).expect(200).body().at("/details/model_hash").asText());
      }
      System.out.printf("FAULT coordinator kill -9 -> all of its entities answering on the survivor: %d ms%n", millisToAnswering);
    }
  }

  @Test
  void stoppingAndStartingEveryNodeBringsBackRecordsRegistryAndTheMovingAverage() throws Exception {
    try (ClusterProcesses cluster = ClusterProcesses.start(tmp)) {
      Node a = cluster.coordinator("coordinator-a", "").start();
      Node b = cluster.coordinator("coordinator-b", "", a);
      Node gpu = cluster.gpuNode("gpu-1", "", a, b);
      ClusterProcesses.startAll(b, gpu);
      ApiNode api = a.api();
      Model evaluated = ApiNode.model("sn11-demo", "tiny-llama", ApiNode.hotkey("restart"), 150);
      Model scoredA = ApiNode.model("bob-org", "scored-a", ApiNode.hotkey("bob"), 100);
      Model scoredB = ApiNode.model("charlie-org", "scored-b", ApiNode.hotkey("charlie"), 50);
      api.adminPost("/check_model", evaluated.json()).expect(200);
      api.adminPost("/admin/results", imported(scoredA, 0.6)).expect(200);
      b.api().adminPost("/admin/results", imported(scoredB, 0.3)).expect(200);
      api.register(0, scoredA).expect(200);
      b.api().register(1, scoredB).expect(200);
      JsonNode minerboard =
          ApiNode.await("both miners COMPLETED on the minerboard", () -> api.get("/minerboard").expect(200).body(),
              board -> board.size() == 2 && board.findValuesAsText("status").stream().allMatch("COMPLETED"::equals));
      awaitStatus(api, evaluated, "COMPLETED");
      List<Model> models = List.of(evaluated, scoredA, scoredB);
      List<JsonNode> records = answering(api, models).values().stream().toList();
      JsonNode weights = api.foldWeights(1000).expect(200).body();
      JsonNode folded = api.get("/weights").expect(200).body();
      assertEquals(1000, folded.get("last_folded_block").asLong(), folded::toString);

      for (Node node : List.of(gpu, b, a)) node.stop();
      a.start();
      ClusterProcesses.startAll(b, gpu);

      for (Node node : List.of(a, b)) {
        ApiNode again = node.api();
        assertEquals(records, answering(again, models).values().stream().toList(), node.name());
        assertEquals(minerboard, again.get("/minerboard").expect(200).body(), node.name());
      }
      assertEquals(folded, b.api().get("/weights").expect(200).body(), "the folded state after the restart");
      b.api().foldWeights(1000).expectError(409, "current_block");
      JsonNode later = b.api().foldWeights(2000).expect(200).body();
      for (int i = 0; i < 2; i++) {
        double previous = weights.at("/uids/" + i + "/weight").asDouble();
        double step = later.at("/uids/" + i + "/step_weight").asDouble();
        assertEquals(0.9 * previous + 0.1 * step, later.at("/uids/" + i + "/weight").asDouble(), 1e-12, "uid " + i);
      }
    }
  }

  @Test
  void whilePostgresIsDownRequestsFailFastAndNothingAcceptedIsLost() throws Exception {
    try (ClusterProcesses cluster = ClusterProcesses.start(tmp)) {
      Node a = cluster.coordinator("coordinator-a", "").start();
      Node b = cluster.coordinator("coordinator-b", "", a).start();
      List<ApiNode> front = List.of(a.api(), b.api());
      List<Outcome> outcomes = new CopyOnWriteArrayList<>();
      AtomicBoolean loading = new AtomicBoolean(true);
      Thread load = new Thread(() -> submitUntilStopped(front, outcomes, loading), "load");
      load.start();
      try {
        ApiNode.await("submissions accepted", () -> outcomes.stream().filter(o -> o.status() == 200).count(), n -> n >= 5);
        cluster.stopPostgres();
        long stopped = System.nanoTime();
        int beforeOutage = outcomes.size();
        ApiNode.await(
            "503s during an outage of " + OUTAGE.toSeconds() + " s", RECOVERY,
            () -> unavailable(outcomes.subList(beforeOutage, outcomes.size())) >= 3 && millisSince(stopped) >= OUTAGE.toMillis(), down -> down);
        assertEquals(503, front.get(0).get("/hc").status(), "/hc while PostgreSQL is down");
        cluster.startPostgres();
        int afterOutage = outcomes.size();
        ApiNode.await("submissions accepted again after PostgreSQL is back", RECOVERY,
            () -> outcomes.subList(afterOutage, outcomes.size()).stream().filter(o -> o.status() == 200).count(), n -> n >= 4);
      } finally {
        loading.set(false);
        load.join(TimeUnit.MINUTES.toMillis(1));
      }

      for (ApiNode node : front) ApiNode.await("/hc healthy again", RECOVERY, () -> node.get("/hc").status(), status -> status == 200);
      for (Outcome outcome : outcomes) {
        assertTrue(outcome.status() == 200 || outcome.status() == 503, () -> "every request answered 200 or 503: " + outcome);
        if (outcome.status() == 200) {
          // The probe that gates the API may still be catching up with the database's return.
          JsonNode now =
              ApiNode.await("record of " + outcome.model(), RECOVERY, () -> details(front.get(1), outcome.model()), answer -> answer.status() == 200)
                  .body();
          assertEquals(outcome.record(), now, () -> "accepted " + outcome.model() + " is there as answered");
        }
      }
      List<Long> refusalMillis = outcomes.stream().filter(o -> o.status() == 503).map(Outcome::millis).sorted().toList();
      System.out.printf(
          "FAULT PostgreSQL down %d s under load: %d requests, %d answered 200, %d answered 503 (median after %d ms, slowest after %d ms)%n",
          OUTAGE.toSeconds(), outcomes.size(), outcomes.size() - refusalMillis.size(), refusalMillis.size(),
          refusalMillis.get(refusalMillis.size() / 2), refusalMillis.get(refusalMillis.size() - 1));
    }
  }

  @Test
  void aGpuNodeStoppedPastTheFailureDetectorIsDownedAndDoesNotReportTwice() throws Exception {
    try (ClusterProcesses cluster = ClusterProcesses.start(tmp)) {
      Node a = cluster.coordinator("coordinator-a", "").start();
      Node b = cluster.coordinator("coordinator-b", "", a);
      List<Node> gpuNodes = List.of(cluster.gpuNode("gpu-1", SLOW_EVALUATION, a, b), cluster.gpuNode("gpu-2", SLOW_EVALUATION, a, b));
      ClusterProcesses.startAll(b, gpuNodes.get(0), gpuNodes.get(1));
      ApiNode api = a.api();
      Model model = ApiNode.model("sn11-demo", "tiny-llama", ApiNode.hotkey("gpu-node-stopped"), 1_000);
      api.adminPost("/evaluate_model", model.json()).expect(200);

      Node frozen = awaitRunningOn(api, model, gpuNodes);
      frozen.signal("STOP");
      String secondWorker = ApiNode.await("attempt 2 claimed", RECOVERY, () -> worker(api, model, 2), w -> w != null);
      assertTrue(secondWorker.startsWith(other(gpuNodes, frozen).workerPrefix()), secondWorker);
      awaitStatus(api, model, "COMPLETED");

      frozen.signal("CONT");
      // Downed while it was stopped: on resuming it learns so and shuts itself down.
      assertTrue(frozen.process().waitFor(2, TimeUnit.MINUTES), "the resumed gpu-node did not shut down");
      assertEquals(1, cluster.journalEvents(model.hash(), "EvaluationCompleted"), () -> "journal: " + journal(cluster, model));
      JsonNode completed = events(api, model).stream().filter(e -> e.path("type").asText().equals("EvaluationCompleted")).findFirst().orElseThrow();
      assertEquals(2, completed.at("/event/attempt").asInt(), completed::toString);
    }
  }

  // ---- scenario steps -----------------------------------------------------------------------------

  /** Waits until {@code model}'s first attempt is RUNNING, and answers the gpu-node that runs it. */
  private static Node awaitRunningOn(ApiNode api, Model model, List<Node> gpuNodes) throws Exception {
    awaitStatus(api, model, "RUNNING");
    String worker = worker(api, model, 1);
    return gpuNodes.stream().filter(n -> worker.startsWith(n.workerPrefix())).findFirst().orElseThrow(() -> new AssertionError("no gpu-node runs " + worker));
  }

  private static Node other(List<Node> nodes, Node one) {
    return nodes.stream().filter(n -> n != one).findFirst().orElseThrow();
  }

  private static void awaitStatus(ApiNode api, Model model, String status) throws Exception {
    ApiNode.await(model.name() + " " + status, EVALUATION, () -> details(api, model).body().path("status").asText(), s -> {
      assertFalse(s.equals("FAILED") && !status.equals("FAILED"), () -> model.name() + " FAILED");
      return s.equals(status);
    });
  }

  /** A load of imported results over both coordinators, one at a time, each with a bounded wait. */
  private static void submitUntilStopped(List<ApiNode> front, List<Outcome> outcomes, AtomicBoolean loading) {
    for (int i = 0; loading.get(); i++) {
      ApiNode api = front.get(i % front.size());
      Model model = ApiNode.model("load", "result-" + i, ApiNode.hotkey("load-" + i), 1_000 + i);
      long started = System.nanoTime();
      try {
        ApiNode.Answer answer =
            api.send(
                api.request("/admin/results")
                    .timeout(Duration.ofSeconds(15))
                    .header("Content-Type", "application/json")
                    .header("Authorization", "Bearer " + ApiNode.TOKEN)
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString(imported(model, 0.5).toString()))
                    .build());
        outcomes.add(new Outcome(model, answer.status(), answer.body(), millisSince(started), null));
      } catch (IOException e) {
        outcomes.add(new Outcome(model, -1, null, millisSince(started), e.toString()));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private record Outcome(Model model, int status, JsonNode record, long millis, String error) {}

  private static long unavailable(List<Outcome> outcomes) {
    return outcomes.stream().filter(o -> o.status() == 503).count();
  }

  // ---- HTTP ---------------------------------------------------------------------------------------

  private static ObjectNode imported(Model model, double judgeScore) {
    ObjectNode body = model.json();
    body.set("score", ApiNode.JSON.createObjectNode().put("judge_score", judgeScore));
    body.put("source", "fault-test");
    return body;
  }

  /** The model's record on our own route: every score (null when not measured) and 404 when unknown. */
  private static ApiNode.Answer details(ApiNode api, Model model) throws Exception {
    return api.get("/models/" + model.hash());
  }

  /** The records of {@code models} by hash, or null for a model that does not answer 200 now. */
  private static Map<String, JsonNode> answering(ApiNode api, List<Model> models) throws Exception {
    Map<String, JsonNode> records = new LinkedHashMap<>();
    for (Model model : models) {
      ApiNode.Answer answer = details(api, model);
      records.put(model.hash(), answer.status() == 200 ? answer.body() : null);
    }
    return records;
  }

  private static List<JsonNode> events(ApiNode api, Model model) throws Exception {
    List<JsonNode> events = new ArrayList<>();
    api.get("/models/" + model.hash() + "/events").expect(200).body().path("events").forEach(events::add);
    return events;
  }

  /** The worker that claimed {@code attempt} of the model (its PrecheckStarted event), or null. */
  private static String worker(ApiNode api, Model model, int attempt) throws Exception {
    for (JsonNode event : events(api, model)) {
      if (event.path("type").asText().equals("PrecheckStarted") && event.at("/event/attempt").asInt() == attempt) return event.at("/event/worker").asText();
    }
    return null;
  }

  private static String journal(ClusterProcesses cluster, Model model) {
    try {
      return cluster.journalEventTypes(model.hash()).toString();
    } catch (java.sql.SQLException e) {
      return "(unreadable: " + e + ")";
    }
  }

  private static long millisSince(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
  }
}
