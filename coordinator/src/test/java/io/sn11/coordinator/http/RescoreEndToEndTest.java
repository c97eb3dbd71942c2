package io.sn11.coordinator.http;

import static io.sn11.coordinator.http.ApiNode.JSON;
import static io.sn11.coordinator.http.ApiNode.hotkey;
import static io.sn11.coordinator.http.ApiNode.model;
import static io.sn11.coordinator.http.ApiNode.query;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sn11.cluster.domain.EvaluationInfo;
import io.sn11.cluster.domain.Scores;
import io.sn11.cluster.scoring.ScoringFingerprint;
import io.sn11.cluster.work.EvaluationWork;
import io.sn11.cluster.work.EvaluationWork.Assignment;
import io.sn11.coordinator.evaluation.ModelEvaluation;
import io.sn11.coordinator.http.ApiNode.Model;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * "A rescore keeps the old score until the new one lands", through the dispatcher: a worker slot played by the
 * test evaluates a model, the operator asks for a rescore under a new fingerprint, and validators keep reading
 * the old score (COMPLETED on /model_submission_details and /leaderboard) while the rescore is queued and running,
 * and the new one once it completes; the model's history keeps both with their fingerprints.
 */
class RescoreEndToEndTest {
  @TempDir static Path dataDir;
  static ApiNode api;

  private static final Scores OLD = new Scores(0.9, 0.5, 0.8, 0.42, 0.97, 0.6, null, 0.42);
  private static final Scores NEW = new Scores(0.9, 0.4, 0.6, 0.31, 0.96, 0.5, null, 0.31);
  /** The cluster's scoring version before (the old score's) and now (the required one, the rescore's). */
  private static final String OLD_FINGERPRINT = ScoringFingerprint.of(Map.of("evaluation.samples", "16")).id();
  private static final String NEW_FINGERPRINT = ScoringFingerprint.of(Map.of("evaluation.samples", "32")).id();

  @BeforeAll
  static void startNode() throws Exception {
    api = ApiNode.start(dataDir, Map.of("sn11.coordinator.scoring.required-fingerprint", NEW_FINGERPRINT), List.of());
  }

  @AfterAll
  static void stopNode() throws Exception {
    if (api != null) api.close();
  }

  /**
   * The old score, scored before the cluster's scoring version changed: recorded on the model's entity as a slot of
   * that version reported it (the dispatcher now refuses that fingerprint's results).
   */
  private static void scoredUnderTheOldVersion(Model m) throws Exception {
    api.tell(m, r -> new ModelEvaluation.Claim("old-version/slot-1", r));
    api.tell(m, r -> new ModelEvaluation.StartRunning(1, r));
    api.tell(m, r -> new ModelEvaluation.Complete(1, OLD, info(OLD_FINGERPRINT), List.of(), r));
  }

  private static Map<String, String> info(String fingerprint) {
    return Map.of(EvaluationInfo.SCORING_FINGERPRINT, fingerprint, "content_hash", "c0ffee");
  }

  private static JsonNode submissionDetails(Model m) throws Exception {
    return api.get("/model_submission_details?" + query(m.queryFields())).expect(200).body();
  }

  private static JsonNode leaderboardRow(Model m, String parameters) throws Exception {
    for (JsonNode row : api.get("/leaderboard" + parameters).expect(200).body().path("models")) {
      if (row.path("model_hash").asText().equals(m.hash())) return row;
    }
    return null;
  }

  /** What a validator reads while the rescore is pending: COMPLETED with the old score, on both routes. */
  private static void assertOldScoreVisible(Model m) throws Exception {
    JsonNode details = submissionDetails(m);
    assertEquals("COMPLETED", details.path("status").asText(), details::toString);
    assertEquals(0.42, details.at("/score/total_score").asDouble(), details::toString);
    assertEquals(0.5, details.at("/score/qualitative_score").asDouble(), details::toString);
    JsonNode row = leaderboardRow(m, "");
    assertEquals("COMPLETED", row.path("status").asText(), row::toString);
    assertEquals(0.42, row.at("/score/total_score").asDouble(), row::toString);
    assertEquals(OLD_FINGERPRINT, row.path("scoring_fingerprint").asText(), row::toString);
  }

  @Test
  void aRescoreKeepsTheOldScoreUntilTheNewOneLands() throws Exception {
    Model m = model("rescore-e2e", "model", hotkey("rescore-e2e"), 10);
    api.adminPost("/check_model", m.json()).expect(200);
    scoredUnderTheOldVersion(m);
    ApiNode.await("the first score on the leaderboard", () -> leaderboardRow(m, ""), row -> row != null && "COMPLETED".equals(row.path("status").asText()));
    assertOldScoreVisible(m);

    // A rescore under another fingerprint than the required one could never be scored so: refused, nothing queued.
    JsonNode refused = api.adminPost("/admin/rescore", JSON.createObjectNode().put("fingerprint", OLD_FINGERPRINT)).expect(409).body();
    assertEquals("fingerprint", refused.path("field").asText(), refused::toString);
    assertTrue(api.get("/models/" + m.hash()).expect(200).body().at("/details/rescore").isNull(), "no rescore queued");

    // A slot of the required version joins; the operator rescores under it.
    TestWorker worker = TestWorker.on(api.node().system(), NEW_FINGERPRINT);
    JsonNode answer = api.adminPost("/admin/rescore", JSON.createObjectNode().put("fingerprint", NEW_FINGERPRINT)).expect(200).body();
    assertEquals(1, answer.path("queued").asInt(), answer::toString);
    assertEquals(m.hash(), answer.at("/hashes/0").asText(), answer::toString);
    assertEquals(false, answer.path("more").asBoolean(), answer::toString);
    // Persisted before the answer: the subnet's route reads the entity, which shows the rescore already.
    JsonNode ours = api.get("/models/" + m.hash()).expect(200).body();
    assertEquals("COMPLETED", ours.path("status").asText(), ours::toString);
    assertEquals("QUEUED", ours.at("/details/rescore/status").asText(), ours::toString);
    assertEquals(NEW_FINGERPRINT, ours.at("/details/rescore/fingerprint").asText(), ours::toString);
    assertOldScoreVisible(m);

    Assignment rescore = worker.claimNext(m.hash());
    assertEquals(2, rescore.attempt());
    worker.report(rescore, new EvaluationWork.Running());
    ApiNode.await(
        "the rescore running on the leaderboard", () -> leaderboardRow(m, ""), row -> "RUNNING".equals(row.at("/rescore/status").asText(null)));
    assertOldScoreVisible(m);
    assertEquals("RUNNING", api.get("/models/" + m.hash()).expect(200).body().at("/details/rescore/status").asText());

    worker.report(
        rescore,
        new EvaluationWork.Completed(NEW, info(NEW_FINGERPRINT), List.of()));
    JsonNode details = submissionDetails(m);
    assertEquals("COMPLETED", details.path("status").asText());
    assertEquals(0.31, details.at("/score/total_score").asDouble(), details::toString);
    assertTrue(details.at("/details/rescore").isNull(), details::toString);
    JsonNode row =
        ApiNode.await("the new score on the leaderboard", () -> leaderboardRow(m, ""), r -> r.at("/score/total_score").asDouble() == 0.31);
    assertEquals(NEW_FINGERPRINT, row.path("scoring_fingerprint").asText());
    assertTrue(row.path("rescore").isNull(), row::toString);

    JsonNode history = api.get("/models/" + m.hash() + "/scores").expect(200).body().path("scores");
    List<String> entries = new ArrayList<>();
    for (JsonNode h : history) {
      entries.add(h.path("attempt").asInt() + " " + h.path("outcome").asText() + " " + h.path("scoring_fingerprint").asText() + " "
          + h.at("/score/total_score").asDouble() + " rescore=" + h.path("rescore").asBoolean());
    }
    assertEquals(List.of("2 COMPLETED " + NEW_FINGERPRINT + " 0.31 rescore=true", "1 COMPLETED " + OLD_FINGERPRINT + " 0.42 rescore=false"), entries);

    assertEquals(m.hash(), leaderboardRow(m, "?fingerprint=" + NEW_FINGERPRINT).path("model_hash").asText());
    assertEquals(null, leaderboardRow(m, "?fingerprint=" + OLD_FINGERPRINT));
    // Rescoring under the fingerprint it was just scored with queues nothing.
    assertEquals(0, api.adminPost("/admin/rescore", JSON.createObjectNode().put("fingerprint", NEW_FINGERPRINT)).expect(200).body().path("queued").asInt());
  }
}
