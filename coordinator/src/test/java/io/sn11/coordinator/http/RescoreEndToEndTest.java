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
import io.sn11.cluster.work.EvaluationWork;
import io.sn11.cluster.work.EvaluationWork.Assignment;
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

  @BeforeAll
  static void startNode() throws Exception {
    api = ApiNode.start(dataDir);
  }

  @AfterAll
  static void stopNode() throws Exception {
    if (api != null) api.close();
  }

  private static void evaluate(TestWorker worker, Model m, Scores scores, String fingerprint) throws Exception {
    Assignment assignment = worker.claimNext(m.hash());
    worker.report(assignment, new EvaluationWork.Running());
    worker.report(
        assignment,
        new EvaluationWork.Completed(scores, Map.of(EvaluationInfo.SCORING_FINGERPRINT, fingerprint, "content_hash", "c0ffee"), List.of()));
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
    assertEquals("fp-old", row.path("scoring_fingerprint").asText(), row::toString);
  }

  @Test
  void aRescoreKeepsTheOldScoreUntilTheNewOneLands() throws Exception {
    TestWorker worker = TestWorker.on(api.node().system());
    Model m = model("rescore-e2e", "model", hotkey("rescore-e2e"), 10);
    api.adminPost("/check_model", m.json()).expect(200);
    evaluate(worker, m, OLD, "fp-old");
    ApiNode.await("the first score on the leaderboard", () -> leaderboardRow(m, ""), row -> row != null && "COMPLETED".equals(row.path("status").asText()));
    assertOldScoreVisible(m);

    JsonNode answer = api.adminPost("/admin/rescore", JSON.createObjectNode().put("fingerprint", "fp-new")).expect(200).body();
    assertEquals(1, answer.path("queued").asInt(), answer::toString);
    assertEquals(m.hash(), answer.at("/hashes/0").asText(), answer::toString);
    assertEquals(false, answer.path("more").asBoolean(), answer::toString);
    // Persisted before the answer: the subnet's route reads the entity, which shows the rescore already.
    JsonNode ours = api.get("/models/" + m.hash()).expect(200).body();
    assertEquals("COMPLETED", ours.path("status").asText(), ours::toString);
    assertEquals("QUEUED", ours.at("/details/rescore/status").asText(), ours::toString);
    assertEquals("fp-new", ours.at("/details/rescore/fingerprint").asText(), ours::toString);
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
        new EvaluationWork.Completed(NEW, Map.of(EvaluationInfo.SCORING_FINGERPRINT, "fp-new", "content_hash", "c0ffee"), List.of()));
    JsonNode details = submissionDetails(m);
    assertEquals("COMPLETED", details.path("status").asText());
    assertEquals(0.31, details.at("/score/total_score").asDouble(), details::toString);
    assertTrue(details.at("/details/rescore").isNull(), details::toString);
    JsonNode row =
        ApiNode.await("the new score on the leaderboard", () -> leaderboardRow(m, ""), r -> r.at("/score/total_score").asDouble() == 0.31);
    assertEquals("fp-new", row.path("scoring_fingerprint").asText());
    assertTrue(row.path("rescore").isNull(), row::toString);

    JsonNode history = api.get("/models/" + m.hash() + "/scores").expect(200).body().path("scores");
    List<String> entries = new ArrayList<>();
    for (JsonNode h : history) {
      entries.add(h.path("attempt").asInt() + " " + h.path("outcome").asText() + " " + h.path("scoring_fingerprint").asText() + " "
          + h.at("/score/total_score").asDouble() + " rescore=" + h.path("rescore").asBoolean());
    }
    assertEquals(List.of("2 COMPLETED fp-new 0.31 rescore=true", "1 COMPLETED fp-old 0.42 rescore=false"), entries);

    assertEquals(m.hash(), leaderboardRow(m, "?fingerprint=fp-new").path("model_hash").asText());
    assertEquals(null, leaderboardRow(m, "?fingerprint=fp-old"));
    // Rescoring under the fingerprint it was just scored with queues nothing.
    assertEquals(0, api.adminPost("/admin/rescore", JSON.createObjectNode().put("fingerprint", "fp-new")).expect(200).body().path("queued").asInt());
  }
}
