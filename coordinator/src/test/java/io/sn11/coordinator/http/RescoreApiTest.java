package io.sn11.coordinator.http;

import static io.sn11.coordinator.http.ApiNode.JSON;
import static io.sn11.coordinator.http.ApiNode.TOKEN;
import static io.sn11.coordinator.http.ApiNode.hotkey;
import static io.sn11.coordinator.http.ApiNode.model;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sn11.cluster.domain.EvaluationInfo;
import io.sn11.cluster.domain.ModelStatus;
import io.sn11.cluster.domain.Scores;
import io.sn11.coordinator.evaluation.ModelEvaluation;
import io.sn11.coordinator.http.ApiNode.Model;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code POST /admin/rescore}: admin only (nothing changes without a credential), a bad body is a 400 naming the
 * field, a fingerprint queues the COMPLETED models scored under another one (none counts as another), {@code all}
 * every COMPLETED one, each once; and {@code /leaderboard?fingerprint=}. A node of its own: {@code all} reaches
 * every model of the node.
 */
class RescoreApiTest {
  @TempDir static Path dataDir;
  static ApiNode api;

  private static final Scores SCORES = new Scores(0.9, 0.5, 0.8, 0.42, 0.97, 0.6, null, 0.42);

  @BeforeAll
  static void startNode() throws Exception {
    api = ApiNode.start(dataDir);
  }

  @AfterAll
  static void stopNode() throws Exception {
    if (api != null) api.close();
  }

  /** A model evaluated (as a worker slot would report it) under {@code fingerprint}, once the read side shows its result. */
  private static Model completed(String seed, String fingerprint) throws Exception {
    Model m = model("rescore-" + seed, "model", hotkey("rescore-" + seed), 10);
    api.adminPost("/check_model", m.json()).expect(200);
    api.tell(m, r -> new ModelEvaluation.Claim("gpu-1", r));
    api.tell(m, r -> new ModelEvaluation.StartRunning(1, r));
    api.tell(m, r -> new ModelEvaluation.Complete(1, SCORES, Map.of(EvaluationInfo.SCORING_FINGERPRINT, fingerprint), List.of(), r));
    return awaitHistory(m);
  }

  private static Model awaitHistory(Model m) throws Exception {
    ApiNode.await("a result in the history of " + m.hash(), () -> api.get("/models/" + m.hash() + "/scores"), a -> a.status() == 200 && a.body().path("scores").size() > 0);
    return m;
  }

  private static ModelEvaluation.State state(Model m) throws Exception {
    return api.tell(m, ModelEvaluation.Get::new);
  }

  private static JsonNode rescore(ObjectNode body) throws Exception {
    JsonNode answer = api.adminPost("/admin/rescore", body).expect(200).body();
    assertEquals(answer.path("queued").asInt(), answer.path("hashes").size(), answer::toString);
    return answer;
  }

  private static Set<String> hashes(JsonNode answer) {
    Set<String> hashes = new HashSet<>();
    answer.path("hashes").forEach(h -> hashes.add(h.asText()));
    return hashes;
  }

  private static ObjectNode fingerprint(String fingerprint) {
    return JSON.createObjectNode().put("fingerprint", fingerprint);
  }

  @Test
  void withoutAValidCredentialNothingIsRescored() throws Exception {
    Model m = completed("no-auth", "fp-a");
    api.post("/admin/rescore", fingerprint("fp-b")).expectError(401, "Authorization");
    api.post("/admin/rescore", fingerprint("fp-b"), "Authorization", "Bearer wrong-token").expectError(401, "Authorization");
    api.post("/admin/rescore", fingerprint("fp-b").put("admin_key", "wrong-token")).expectError(403, "admin_key");
    assertNull(state(m).rescore());
    assertEquals(ModelStatus.COMPLETED, state(m).status());
    // The subnet clients' way works: the admin key in the body.
    JsonNode answer = api.post("/admin/rescore", fingerprint("fp-b").put("admin_key", TOKEN)).expect(200).body();
    assertTrue(hashes(answer).contains(m.hash()), answer::toString);
    assertEquals(ModelStatus.QUEUED, state(m).rescore().status());
  }

  @Test
  void aBadBodyIsRefusedNamingTheFieldAndRecorded() throws Exception {
    api.adminPost("/admin/rescore", JSON.createObjectNode()).expectError(400, "fingerprint");
    api.adminPost("/admin/rescore", fingerprint("")).expectError(400, "fingerprint");
    api.adminPost("/admin/rescore", fingerprint("fp with spaces")).expectError(400, "fingerprint");
    api.adminPost("/admin/rescore", fingerprint("x".repeat(129))).expectError(400, "fingerprint");
    api.adminPost("/admin/rescore", JSON.createObjectNode().set("fingerprint", JSON.createObjectNode().put("id", "fp"))).expectError(400, "fingerprint");
    api.adminPost("/admin/rescore", fingerprint("fp-a").put("limit", 0)).expectError(400, "limit");
    api.adminPost("/admin/rescore", fingerprint("fp-a").put("limit", 10_001)).expectError(400, "limit");
    api.adminPost("/admin/rescore", fingerprint("fp-a").put("mode", "fast")).expectError(400, "mode");
    // No body at all is refused as on every route with a body: it is no JSON object (and names no admin to record).
    api.post("/admin/rescore", "", "Authorization", "Bearer " + TOKEN).expectError(400, null);
    List<String> recorded = new ArrayList<>();
    for (JsonNode a : api.get("/admin/actions?limit=1000", "Authorization", "Bearer " + TOKEN).expect(200).body().path("actions")) {
      if (a.path("action").asText().equals("admin_rescore")) recorded.add(a.path("status").asText());
    }
    assertEquals(8, recorded.stream().filter("400"::equals).count(), recorded::toString);
  }

  @Test
  void aFingerprintQueuesTheModelsScoredUnderAnotherOneAndAllQueuesEveryCompletedOneOnce() throws Exception {
    Model a = completed("a", "fp-a");
    Model a2 = completed("a2", "fp-a");
    Model b = completed("b", "fp-b");
    Model imported = model("rescore-imported", "model", hotkey("rescore-imported"), 10);
    api.importJudgeScore(imported, 0.5).expect(200);
    awaitHistory(imported);
    Model queued = model("rescore-queued", "model", hotkey("rescore-queued"), 10);
    api.adminPost("/check_model", queued.json()).expect(200);
    Set<String> ours = Set.of(a.hash(), a2.hash(), b.hash(), imported.hash(), queued.hash());

    JsonNode first = rescore(fingerprint("fp-a"));
    Set<String> queuedByFirst = new HashSet<>(hashes(first));
    queuedByFirst.retainAll(ours);
    assertEquals(Set.of(b.hash(), imported.hash()), queuedByFirst, first::toString);
    for (Model m : List.of(b, imported)) {
      ModelEvaluation.State s = state(m);
      assertEquals(ModelStatus.COMPLETED, s.status());
      assertEquals(ModelStatus.QUEUED, s.rescore().status());
      assertEquals("fp-a", s.rescore().fingerprint());
    }
    assertNull(state(a).rescore());
    assertEquals(ModelStatus.QUEUED, state(queued).status());
    assertNull(state(queued).rescore());
    // Again: the pending ones are not queued twice.
    assertTrue(hashes(rescore(fingerprint("fp-a"))).stream().noneMatch(ours::contains));

    // The leaderboard filtered by fingerprint: the models whose current score was produced under it.
    Set<String> underA = new HashSet<>();
    api.get("/leaderboard?fingerprint=fp-a&limit=1000").expect(200).body().path("models").forEach(row -> underA.add(row.path("model_hash").asText()));
    underA.retainAll(ours);
    assertEquals(Set.of(a.hash(), a2.hash()), underA);
    JsonNode unfiltered = api.get("/leaderboard").expect(200).body();
    assertTrue(unfiltered.has("counts") && unfiltered.has("models"), unfiltered::toString);
    api.get("/leaderboard?fingerprint=fp%20a").expectError(400, "fingerprint");
    api.get("/leaderboard?fingerprint=fp-a&sort=score").expectError(400, "sort");

    // all, a page of one at a time: one model queued, more remain; then the rest, each once.
    JsonNode one = rescore(fingerprint("all").put("limit", 1));
    assertEquals(1, one.path("queued").asInt(), one::toString);
    assertTrue(one.path("more").asBoolean(), one::toString);
    JsonNode rest = rescore(fingerprint("all"));
    assertFalse(rest.path("more").asBoolean(), rest::toString);
    Set<String> byAll = new HashSet<>(hashes(one));
    byAll.addAll(hashes(rest));
    assertEquals(one.path("queued").asInt() + rest.path("queued").asInt(), byAll.size(), "no model queued twice");
    byAll.retainAll(ours);
    assertEquals(Set.of(a.hash(), a2.hash()), byAll);
    assertEquals("all", state(a).rescore().fingerprint());
    assertEquals("fp-a", state(b).rescore().fingerprint());
    JsonNode details = api.get("/model_submission_details?" + ApiNode.query(a.queryFields())).expect(200).body();
    assertEquals("COMPLETED", details.path("status").asText(), details::toString);
    assertEquals(0.42, details.at("/score/total_score").asDouble(), details::toString);
  }

  @Test
  void theHistoryOfAnUnknownModelIs404AndABadHashIs400() throws Exception {
    api.get("/models/123/scores").expectError(404, null);
    api.get("/models/not-a-hash/scores").expectError(400, "hash");
    Model m = completed("history-limit", "fp-h");
    api.get("/models/" + m.hash() + "/scores?limit=0").expectError(400, "limit");
    JsonNode entry = api.get("/models/" + m.hash() + "/scores").expect(200).body().at("/scores/0");
    assertEquals("fp-h", entry.path("scoring_fingerprint").asText(), entry::toString);
    assertEquals("evaluation", entry.path("source").asText(), entry::toString);
    assertEquals(1, entry.path("attempt").asInt(), entry::toString);
  }
}
