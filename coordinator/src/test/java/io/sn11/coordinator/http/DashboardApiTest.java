package io.sn11.coordinator.http;

import static io.sn11.coordinator.http.ApiNode.hotkey;
import static io.sn11.coordinator.http.ApiNode.model;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sn11.coordinator.evaluation.ModelEvaluation;
import io.sn11.coordinator.http.ApiNode.Answer;
import io.sn11.coordinator.http.ApiNode.Model;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JSON routes behind the dashboard, and the page's own files, on a node of their own (the
 * leaderboard, the queue and the weights history see every model and fold of the node).
 */
class DashboardApiTest {
  @TempDir static Path dataDir;
  static ApiNode api;

  @BeforeAll
  static void startNode() throws Exception {
    api = ApiNode.start(dataDir);
  }

  @AfterAll
  static void stopNode() throws Exception {
    if (api != null) api.close();
  }

  /** The listed models of {@code namespace} (all of them when null), in the order listed. */
  private static List<JsonNode> ofNamespace(JsonNode models, String namespace) {
    List<JsonNode> found = new ArrayList<>();
    models.forEach(m -> { if (namespace == null || namespace.equals(m.path("repo_namespace").asText())) found.add(m); });
    return found;
  }

  private static List<String> hashes(List<JsonNode> models) {
    return models.stream().map(m -> m.path("model_hash").asText()).toList();
  }

  @Test
  void thePageAndItsFilesAreServed() throws Exception {
    Answer page = api.get("/").expect(200);
    assertTrue(page.contentType().startsWith("text/html"), page.contentType());
    assertTrue(page.raw().contains("<script src=\"/dashboard/app.js\">"), page.raw());
    assertTrue(api.get("/dashboard/app.js").expect(200).contentType().startsWith("application/javascript"));
    assertTrue(api.get("/dashboard/app.css").expect(200).contentType().startsWith("text/css"));
    api.get("/dashboard/no-such-file.js").expectError(404, null);
  }

  @Test
  void theLeaderboardRanksByTotalScoreUnscoredLastAndTheQueueShowsRunningThenPrecheckThenQueued() throws Exception {
    Model best = model("board", "best", hotkey("board-best"), 10);
    Model second = model("board", "second", hotkey("board-second"), 11);
    Model running = model("board", "running", hotkey("board-running"), 12);
    Model claimed = model("board", "claimed", hotkey("board-claimed"), 13);
    Model waiting = model("board", "waiting", hotkey("board-waiting"), 14);
    for (Model m : List.of(best, second, running, claimed, waiting)) api.adminPost("/check_model", m.json()).expect(200);
    api.importJudgeScore(second, 0.3).expect(200);
    api.importJudgeScore(best, 0.7).expect(200);
    // What a gpu-node's slot does: claim, start running, report progress.
    int attempt = api.tell(running, r -> new ModelEvaluation.Claim("sn11@10.0.0.9:2552/slot-2", r)).attempt();
    api.tell(running, r -> new ModelEvaluation.StartRunning(attempt, r));
    api.tell(running, r -> new ModelEvaluation.ReportProgress(attempt, "generate", 0.5, r));
    api.tell(claimed, r -> new ModelEvaluation.Claim("sn11@10.0.0.9:2552/slot-1", r));

    JsonNode board =
        ApiNode.await(
            "the leaderboard with both scores and the progress",
            () -> api.get("/leaderboard").expect(200).body(),
            b -> ofNamespace(b.path("models"), "board").size() == 5 && ofNamespace(b.path("models"), "board").get(2).at("/progress/phase").asText().equals("generate"));
    // Other tests' models share the node: the counts must agree with every model listed.
    for (String status : List.of("QUEUED", "PRECHECK", "RUNNING", "COMPLETED", "FAILED")) {
      long listed = ofNamespace(board.path("models"), null).stream().filter(m -> m.path("status").asText().equals(status)).count();
      assertEquals(listed, board.at("/counts/" + status).asLong(), status + " in " + board);
    }
    List<JsonNode> mine = ofNamespace(board.path("models"), "board");
    assertEquals(List.of(best.hash(), second.hash(), running.hash(), claimed.hash(), waiting.hash()), hashes(mine), board.toString());
    assertEquals(0.7, mine.get(0).at("/score/total_score").asDouble());
    assertTrue(mine.get(2).at("/score/total_score").isNull());
    List<String> all = hashes(ofNamespace(board.path("models"), null));
    assertTrue(all.indexOf(second.hash()) < all.indexOf(running.hash()), "scored before unscored: " + all);
    JsonNode top = api.get("/leaderboard?limit=1").expect(200).body().path("models");
    assertEquals(1, top.size());
    assertEquals(all.get(0), top.at("/0/model_hash").asText());

    List<JsonNode> queue = ofNamespace(api.get("/queue").expect(200).body().path("models"), "board");
    assertEquals(List.of(running.hash(), claimed.hash(), waiting.hash()), hashes(queue));
    JsonNode first = queue.get(0);
    assertEquals("RUNNING", first.path("status").asText());
    assertEquals("sn11@10.0.0.9:2552/slot-2", first.path("worker").asText());
    assertEquals(0.5, first.at("/progress/fraction").asDouble());
    JsonNode inPrecheck = queue.get(1);
    assertEquals("PRECHECK", inPrecheck.path("status").asText());
    assertEquals("sn11@10.0.0.9:2552/slot-1", inPrecheck.path("worker").asText());
    assertEquals("precheck", inPrecheck.at("/progress/phase").asText());
    JsonNode queued = queue.get(2);
    assertTrue(queued.path("worker").isNull() && queued.path("progress").isNull(), queued.toString());
  }

  @Test
  void theLeaderboardShowsAnImportsBlockAndWhatADuplicateCopies() throws Exception {
    Model imported = model("truth", "imported", hotkey("truth-imported"), 321);
    api.importJudgeScore(imported, 0.5).expect(200);
    Model original = model("truth", "shared", hotkey("truth-original"), 400);
    api.adminPost("/check_model", original.json()).expect(200);
    api.awaitReadSide(60, original, "QUEUED");
    Model copy = model("truth", "shared", hotkey("truth-copy"), 500);
    api.adminPost("/check_model", copy.json()).expect(200);

    List<JsonNode> rows =
        ApiNode.await(
            "the three models on the leaderboard",
            () -> ofNamespace(api.get("/leaderboard").expect(200).body().path("models"), "truth"),
            found -> found.size() == 3);
    JsonNode importedRow = rows.stream().filter(r -> r.path("model_hash").asText().equals(imported.hash())).findFirst().orElseThrow();
    assertEquals(321, importedRow.path("block").asLong());
    JsonNode copyRow = rows.stream().filter(r -> r.path("model_hash").asText().equals(copy.hash())).findFirst().orElseThrow();
    assertTrue(copyRow.path("duplicate_of").asText().contains(original.hash()), copyRow::toString);
    assertTrue(rows.stream().filter(r -> r != copyRow).allMatch(r -> r.path("duplicate_of").isNull()), rows::toString);
  }

  @Test
  void nodesListTheMembersWithRolesStatusAndSlots() throws Exception {
    JsonNode nodes = api.get("/nodes").expect(200).body();
    assertEquals(1, nodes.path("members").size(), nodes.toString());
    JsonNode self = nodes.at("/members/0");
    assertEquals(nodes.path("self").asText(), self.path("address").asText());
    assertEquals("Up", self.path("status").asText());
    assertTrue(self.path("reachable").asBoolean());
    assertEquals("[\"coordinator\"]", self.path("roles").toString());
    assertEquals(0, self.path("slots").size(), "a coordinator alone has no worker slots");
    assertTrue(self.path("fingerprint").isNull() && self.path("matches_required").isNull(), "no gpu-node, no scoring fingerprint: " + self);
    assertTrue(nodes.path("required_fingerprint").isNull(), "no gpu-node announced one, none configured: " + nodes);
    JsonNode version = api.get("/scoring/fingerprint").expect(200).body();
    assertTrue(version.path("required").isNull() && version.path("configured").isNull(), version::toString);
    assertEquals(0, version.path("history").size(), version::toString);
  }

  @Test
  void theWeightsHistoryHoldsTheLatestFoldsOldestFirstWithHandWorkedAverages() throws Exception {
    // uid 41 scores 0.7 at block 10; uid 42 scores 0.3 at block 20, later, so 0.3 x 0.97 against 0.7:
    // uid 41 wins its one pair (win rate 1), uid 42 none (0). Step weight of 41 = softmax(1 / 0.075, 0):
    // 1 / (1 + e^(-40/3)); the average after n folds is (1 - 0.9^n) times it.
    Model winner = model("weights-history", "winner", hotkey("history-winner"), 10);
    Model loser = model("weights-history", "loser", hotkey("history-loser"), 20);
    for (Model m : List.of(winner, loser)) api.adminPost("/check_model", m.json()).expect(200);
    api.importJudgeScore(winner, 0.7).expect(200);
    api.importJudgeScore(loser, 0.3).expect(200);
    api.awaitReadSide(41, winner, "COMPLETED");
    api.awaitReadSide(42, loser, "COMPLETED");
    assertEquals(0, api.get("/weights/history").expect(200).body().path("steps").size(), "nothing folded yet");

    for (long block : List.of(100L, 200L, 300L)) api.foldWeights(block).expect(200);
    JsonNode steps = api.get("/weights/history?limit=2").expect(200).body().path("steps");
    assertEquals(2, steps.size(), steps.toString());
    assertEquals(200, steps.at("/0/block").asLong());
    assertEquals(300, steps.at("/1/block").asLong());
    double step = 1 / (1 + Math.exp(-40.0 / 3));
    assertEquals(0.19 * step, steps.at("/0/average/41").asDouble(), 1e-12, steps.toString());
    assertEquals(0.271 * step, steps.at("/1/average/41").asDouble(), 1e-12, steps.toString());
    assertEquals(0.271 * (1 - step), steps.at("/1/average/42").asDouble(), 1e-12, steps.toString());
    assertEquals(step, steps.at("/1/step/41").asDouble(), 1e-12, steps.toString());
    assertTrue(steps.at("/1/at").asText().startsWith("20"), steps.toString());
    assertEquals(3, api.get("/weights/history").expect(200).body().path("steps").size());
  }

  @Test
  void aModelIsReadByItsHashAlone() throws Exception {
    Model m = model("by-hash", "model", hotkey("by-hash"), 5);
    api.adminPost("/check_model", m.json()).expect(200);
    JsonNode byHash = api.get("/models/" + m.hash()).expect(200).body();
    JsonNode byDetails = api.get("/model_submission_details?" + ApiNode.query(m.queryFields())).expect(200).body();
    // The same record; only the scores not measured differ: null here, left out on the subnet's route.
    assertEquals(byDetails.get("status"), byHash.get("status"));
    assertEquals(byDetails.get("details"), byHash.get("details"));
    assertEquals(8, byHash.get("score").size());
    byHash.get("score").forEach(score -> assertTrue(score.isNull(), byHash::toString));
    assertEquals(0, byDetails.get("score").size(), byDetails::toString);
    api.get("/models/" + model("by-hash", "unknown", hotkey("by-hash-unknown"), 5).hash()).expectError(404, null);
    api.get("/models/12ab").expectError(400, "hash");
  }

  @Test
  void listLimitsAreBoundedAndUnknownParametersRefused() throws Exception {
    for (String path : List.of("/leaderboard", "/queue", "/weights/history")) {
      api.get(path + "?limit=0").expectError(400, "limit");
      api.get(path + "?limit=abc").expectError(400, "limit");
      api.get(path + "?limit=100001").expectError(400, "limit");
      api.get(path + "?sort=score").expectError(400, "sort");
    }
    api.get("/leaderboard?limit=1000").expect(200);
    api.get("/weights/history?limit=500").expect(200);
    api.get("/weights/history?limit=501").expectError(400, "limit");
  }
}
