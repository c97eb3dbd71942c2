package io.sn11.coordinator.http;

import static io.sn11.coordinator.http.ApiNode.JSON;
import static io.sn11.coordinator.http.ApiNode.TOKEN;
import static io.sn11.coordinator.http.ApiNode.hotkey;
import static io.sn11.coordinator.http.ApiNode.model;
import static io.sn11.coordinator.http.ApiNode.query;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sn11.cluster.domain.Scores;
import io.sn11.coordinator.evaluation.ModelEvaluation;
import io.sn11.coordinator.http.ApiNode.Answer;
import io.sn11.coordinator.http.ApiNode.Model;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.net.http.HttpRequest;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The subnet's own clients against a real node, unchanged: the model queue ({@code check_model_score},
 * {@code push_minerboard}) and the validator ({@code get_model_score}, {@code telemetry_report}, its event
 * reports). Requests are built as their code builds them (paths, JSON bodies with {@code admin_key}, their
 * headers, Python's {@code json.dumps} spacing) and answers read as their code reads them: any non-2xx
 * raises, {@code response.json()} may be {@code None}, and scores are read with {@code dict.get(key,
 * default)}, where a key present as {@code null} becomes {@code None}.
 */
class SubnetClientsTest {
  @TempDir static Path dataDir;
  static ApiNode api;

  /** The metadata headers every subnet client sends (its LocalMetadata). */
  static String[] metadataHeaders(String hotkey, int uid) {
    return new String[] {
      "Git-Commit", "1a2b3c4d", "Bittensor-Version", "9.0.0", "UID", Integer.toString(uid), "Hotkey", hotkey, "Coldkey", hotkey("coldkey-of-" + hotkey)
    };
  }

  @BeforeAll
  static void startNode() throws Exception {
    api = ApiNode.start(dataDir);
  }

  @AfterAll
  static void stopNode() throws Exception {
    if (api != null) api.close();
  }

  static String fingerprint(String token) throws Exception {
    return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)), 0, 6);
  }

  // ---- the model queue ------------------------------------------------------------------------------

  /** {@code check_model_score}: the payload with admin_key, no headers; the status read from {@code result["status"]}. */
  static String modelQueueCheck(Model m, String adminKey) throws Exception {
    String payload =
        "{\"repo_namespace\": \"%s\", \"repo_name\": \"%s\", \"hash\": \"%s\", \"chat_template_type\": \"%s\", \"block\": %d, \"hotkey\": \"%s\", \"admin_key\": \"%s\"}"
            .formatted(m.namespace(), m.name(), m.hash(), m.template(), m.block(), m.hotkey(), adminKey);
    Answer answer = api.post("/check_model", payload).expect(200);
    assertNotNull(answer.body(), "result is None: " + answer.raw());
    String status = answer.body().path("status").asText();
    assertTrue(List.of("QUEUED", "PRECHECK", "RUNNING", "COMPLETED", "FAILED").contains(status), answer.raw());
    return status;
  }

  /** {@code push_minerboard}: the payload with admin_key, the metadata headers; {@code raise_for_status()}. */
  static Answer pushMinerboard(int uid, Model m, String adminKey) throws Exception {
    String payload = "{\"hash\": \"%s\", \"uid\": %d, \"hotkey\": \"%s\", \"block\": %d, \"admin_key\": \"%s\"}"
        .formatted(m.hash(), uid, m.hotkey(), m.block(), adminKey);
    // The model queue's LocalMetadata(commit="x", btversion="x"): no uid, hotkey or coldkey of its own.
    return api.post("/minerboard_update", payload, "Git-Commit", "x", "Bittensor-Version", "x", "UID", "0", "Hotkey", "", "Coldkey", "");
  }

  @Test
  void theModelQueueRegistersMinersWithTheAdminKeyInTheBodyRecordedLikeABearerToken() throws Exception {
    Model m = model("queue-org", "queued-model", hotkey("queue-miner"), 4_300_000);
    assertEquals("QUEUED", modelQueueCheck(m, TOKEN));
    Answer pushed = pushMinerboard(7, m, TOKEN);
    assertEquals(2, pushed.status() / 100, pushed.raw());
    JsonNode row = ApiNode.await("uid 7 on the minerboard", () -> api.minerboardRow(7), r -> r != null);
    assertEquals(m.hash(), row.path("hash").asText());
    assertEquals(4_300_000, row.path("block").asLong());

    String who = fingerprint(TOKEN);
    JsonNode actions =
        ApiNode.await(
            "the model queue's actions recorded",
            () -> api.get("/admin/actions?limit=1000", "Authorization", "Bearer " + TOKEN).expect(200).body().path("actions"),
            list -> list.findValuesAsText("action").containsAll(List.of("check_model", "minerboard_update")));
    for (JsonNode action : actions) assertEquals(who, action.path("who").asText(), action::toString);
  }

  @Test
  void aWrongAdminKeyIs403InvalidKeyAndChangesNothing() throws Exception {
    Model m = model("queue-org", "wrong-key", hotkey("queue-wrong-key"), 4_300_001);
    Answer check =
        api.post("/check_model", m.json().put("admin_key", "not-the-key")).expectError(403, "admin_key");
    assertEquals("invalid key", check.detail());
    Answer push = pushMinerboard(8, m, "not-the-key").expectError(403, "admin_key");
    assertEquals("invalid key", push.detail());
    // Our own answer to no credential at all stays 401.
    api.post("/minerboard_update", JSON.createObjectNode().put("uid", 8).put("hash", m.hash()).put("hotkey", m.hotkey()).put("block", 1))
        .expectError(401, "Authorization");

    api.get("/models/" + m.hash()).expectError(404, null);
    assertTrue(api.get("/minerboard").expect(200).body().findValues("uid").stream().noneMatch(uid -> uid.asInt() == 8), "nothing registered");
    JsonNode actions = api.get("/admin/actions?limit=1000", "Authorization", "Bearer " + TOKEN).expect(200).body().path("actions");
    assertTrue(actions.findValues("status").stream().noneMatch(s -> s.asInt() == 403), "a wrong key is no admin: " + actions);
  }

  @Test
  void theOlderValidatorsEvaluateModelCallWithTheAdminKeyInTheBodyReadsTheRecord() throws Exception {
    Model m = model("queue-org", "evaluated", hotkey("queue-evaluate"), 4_300_002);
    String payload = "{\"repo_namespace\": \"%s\", \"repo_name\": \"%s\", \"hash\": \"%s\", \"chat_template_type\": \"%s\", \"admin_key\": \"%s\"}"
        .formatted(m.namespace(), m.name(), m.hash(), m.template(), TOKEN);
    // That client sends no hotkey; ours needs it to recompute the hash, and says so.
    api.post("/evaluate_model", payload).expectError(400, "hotkey");
    assertEquals("QUEUED", api.post("/evaluate_model", m.json().put("admin_key", TOKEN)).expect(200).body().path("status").asText());
  }

  // ---- the validator: scores --------------------------------------------------------------------------

  /** The validator's reading of an answer: its status, and each score as {@code response.get(key, default)} (null: None). */
  record ValidatorView(String status, Map<String, Double> scores) {
    /** {@code calculate_new_total_score()}: the judge score. */
    Double total() {
      return scores.get("judge_score");
    }
  }

  /** The defaults of the validator's {@code Scores.from_response}. */
  static final Map<String, Double> FROM_RESPONSE_DEFAULTS =
      Map.of("creativity_score", 0.0, "qualitative_score", 0.0, "coherence_score", 0.0, "latency_score", 0.0, "post_eval_score", 1.0, "judge_score", 0.0);

  /** {@code get_model_score}: the query, the metadata and signature headers; a None or status-less answer is FAILED. */
  static ValidatorView validatorReads(Model m) throws Exception {
    Map<String, Object> params = new LinkedHashMap<>();
    params.put("repo_namespace", m.namespace());
    params.put("repo_name", m.name());
    params.put("chat_template_type", m.template());
    params.put("hash", m.hash());
    params.put("hotkey", m.hotkey());
    String validator = hotkey("validator-reading");
    String[] headers = concat(metadataHeaders(validator, 3), "payload_signed", "c2lnbmF0dXJl", "payload", m.hotkey());
    Answer answer = api.get("/model_submission_details?" + query(params), headers);
    assertEquals(2, answer.status() / 100, () -> "raise_for_status() raises: " + answer.raw());
    JsonNode result = answer.body();
    if (result == null || result.isNull() || !result.has("status")) return new ValidatorView("FAILED", Map.of());
    Map<String, Double> scores = new LinkedHashMap<>();
    JsonNode score = result.path("score");
    FROM_RESPONSE_DEFAULTS.forEach(
        (key, fallback) -> scores.put(key, !score.has(key) ? fallback : score.get(key).isNull() ? null : score.get(key).asDouble()));
    return new ValidatorView(result.path("status").asText(), scores);
  }

  static String[] concat(String[] first, String... more) {
    String[] all = java.util.Arrays.copyOf(first, first.length + more.length);
    System.arraycopy(more, 0, all, first.length, more.length);
    return all;
  }

  @Test
  void scoresThatWereNotMeasuredAreLeftOutSoTheValidatorsDefaultsApply() throws Exception {
    // What a gpu-node's evaluation records: no coherence and no post-evaluation score.
    Model evaluated = model("validator-org", "evaluated", hotkey("validator-evaluated"), 4_400_000);
    api.adminPost("/check_model", evaluated.json()).expect(200);
    int attempt = api.tell(evaluated, r -> new ModelEvaluation.Claim("sn11@10.0.0.9:2552/slot-1", r)).attempt();
    api.tell(evaluated, r -> new ModelEvaluation.StartRunning(attempt, r));
    Scores measured = new Scores(0.9, 0.4, 0.8, 0.55, null, 0.7, null, 0.55);
    api.tell(evaluated, r -> new ModelEvaluation.Complete(attempt, measured, Map.of(), List.of(), r));

    ValidatorView view = validatorReads(evaluated);
    assertEquals("COMPLETED", view.status());
    view.scores().forEach((key, value) -> assertNotNull(value, () -> key + " became None: " + view));
    assertEquals(0.55, view.total());
    assertEquals(0.0, view.scores().get("coherence_score"), "the validator's own default");
    assertEquals(1.0, view.scores().get("post_eval_score"), "the validator's own default");

    // A result imported with a total but no judge score: the validator's total is its default 0, not None.
    Model imported = model("validator-org", "imported", hotkey("validator-imported"), 4_400_001);
    api.adminPost("/admin/results", imported.json().set("score", JSON.createObjectNode().put("total_score", 0.33))).expect(200);
    assertEquals(0.0, validatorReads(imported).total());

    // Our own routes keep saying null for what was not measured.
    assertTrue(api.get("/models/" + evaluated.hash()).expect(200).body().at("/score/coherence_score").isNull());
    // The model queue's check_model answer is shaped the same way as the validator's.
    JsonNode checked = api.post("/check_model", evaluated.json().put("admin_key", TOKEN)).expect(200).body();
    assertFalse(checked.path("score").has("coherence_score"), checked::toString);
    assertEquals(0.55, checked.at("/score/judge_score").asDouble());
  }

  @Test
  void anUnknownModelIsNoRecordRatherThanAnHttpError() throws Exception {
    Model unknown = model("validator-org", "never-submitted", hotkey("validator-unknown"), 4_400_002);
    Answer answer = api.get("/model_submission_details?" + query(unknown.queryFields()));
    assertEquals(200, answer.status(), answer.raw());
    assertEquals("null", answer.raw());
    assertEquals("FAILED", validatorReads(unknown).status());
    // Our own route still says 404.
    api.get("/models/" + unknown.hash()).expectError(404, null);
  }

  @Test
  void minerboardRowsAreFlatAsTheSubnetServesThem() throws Exception {
    Model scored = model("flat-org", "scored", hotkey("flat-scored"), 4_500_000);
    Model queued = model("flat-org", "queued", hotkey("flat-queued"), 4_500_001);
    api.importJudgeScore(scored, 0.4).expect(200);
    api.adminPost("/check_model", queued.json()).expect(200);
    JsonNode scoredRow = api.awaitReadSide(20, scored, "COMPLETED");
    JsonNode queuedRow = api.awaitReadSide(21, queued, "QUEUED");

    // {**leaderboard, **entry}: the record's fields beside uid, hotkey, hash and block.
    assertEquals(20, scoredRow.path("uid").asInt());
    assertEquals(scored.hotkey(), scoredRow.path("hotkey").asText());
    assertEquals(4_500_000, scoredRow.path("block").asLong());
    assertEquals("flat-org", scoredRow.path("repo_namespace").asText());
    assertEquals(0.4, scoredRow.path("total_score").asDouble());
    assertEquals(0.4, scoredRow.path("judge_score").asDouble());
    assertFalse(scoredRow.has("score"), scoredRow::toString);
    assertFalse(scoredRow.has("coherence_score"), "not measured, left out: " + scoredRow);
    for (String key : HttpApiTest.SCORE_KEYS) assertFalse(queuedRow.has(key), () -> key + " of an unscored model: " + queuedRow);
  }

  // ---- the validator: its reports ---------------------------------------------------------------------

  /** {@code telemetry_report}: the payload as JSON, the metadata headers; {@code raise_for_status()}. */
  static Answer telemetry(String validator, int uid, String payload) throws Exception {
    return api.post("/telemetry_report", payload, metadataHeaders(validator, uid));
  }

  /** {@code _remote_log(_with_decoration(...))}: the decorated payload as JSON, no headers. */
  static Answer event(String validator, int uid, String payload) throws Exception {
    String body =
        ("{\"signature\": {\"payload_signed\": \"c2lnbmVkIGhvdGtleQ==\", \"payload\": \"%s\"}, \"payload\": %s, \"commit\": \"1a2b3c4d\","
                + " \"btversion\": \"9.0.0\", \"uid\": \"%d\", \"hotkey\": \"%s\", \"coldkey\": \"%s\"}")
            .formatted(validator, payload, uid, validator, hotkey("coldkey-of-" + validator));
    return api.post("/event_report", body);
  }

  static JsonNode validatorRow(String validator) throws Exception {
    for (JsonNode row : api.get("/validators").expect(200).body().path("validators")) {
      if (row.path("hotkey").asText().equals(validator)) return row;
    }
    return null;
  }

  @Test
  void theValidatorsTelemetryAndEventsAreStoredAndItsLatestTelemetryListed() throws Exception {
    String validator = hotkey("validator-reporting");
    Instant before = Instant.now();
    Answer first = telemetry(validator, 12, "{\"current_block\": 4600000, \"metagraph_version\": \"1\"}");
    assertEquals(2, first.status() / 100, first.raw());
    // A 2xx is durable: the listing reads the database, no projection in between.
    JsonNode row = validatorRow(validator);
    assertNotNull(row, "listed after its first report");
    assertEquals(12, row.path("uid").asInt());
    assertEquals("1a2b3c4d", row.path("git_commit").asText());
    assertEquals("9.0.0", row.path("bittensor_version").asText());
    assertEquals(4_600_000, row.path("last_block").asLong());
    Instant reported = Instant.parse(row.path("last_report_at").asText());
    assertFalse(reported.isBefore(before.minusSeconds(1)), row::toString);

    // The validator's run-step event, then telemetry without a block ({"empty": true}): the block seen stays.
    Answer logged = event(validator, 12, "{\"run_step_success\": true, \"attempt\": 0}");
    assertEquals(2, logged.status() / 100, logged.raw());
    assertEquals(2, telemetry(validator, 12, "{\"empty\": true}").status() / 100);
    JsonNode after = validatorRow(validator);
    assertEquals(4_600_000, after.path("last_block").asLong());
    assertEquals(3, after.path("reports").asInt(), after::toString);
    assertFalse(Instant.parse(after.path("last_report_at").asText()).isBefore(reported));
    // An event with a failure's stack trace, as the validator sends it, fits.
    String trace = "Traceback (most recent call last):\\n  File \\\"neurons/validator.py\\\", line 412\\n".repeat(40);
    assertEquals(2, event(validator, 12, "{\"validator_loop_error\": \"boom\", \"stacktrace\": \"" + trace + "\"}").status() / 100);
  }

  @Test
  void theOlderValidatorsTelemetryWithoutAPayloadIsStored() throws Exception {
    // telemetry_report(local_metadata) without a payload: requests.post(json=None) sends no body and no
    // Content-Type; the subnet's server reads the body in a try and stores the headers either way.
    String validator = hotkey("validator-without-payload");
    HttpRequest bare = api.request("/telemetry_report").POST(HttpRequest.BodyPublishers.noBody()).headers(metadataHeaders(validator, 7)).build();
    Answer answer = api.send(bare);
    assertEquals(2, answer.status() / 100, answer.raw());
    JsonNode row = validatorRow(validator);
    assertNotNull(row, "listed after a report without a payload");
    assertEquals(7, row.path("uid").asInt());
  }

  @Test
  void reportsAreBoundedAndCheckedNamingTheField() throws Exception {
    String validator = hotkey("validator-bad-reports");
    api.post("/telemetry_report", "{\"current_block\": 1}", "UID", "1").expectError(400, "Hotkey");
    api.post("/telemetry_report", "{\"current_block\": 1}", metadataHeaders("not-an-ss58", 1)).expectError(400, "Hotkey");
    telemetry(validator, 1, "{\"current_block\": \"soon\"}").expectError(400, "current_block");
    telemetry(validator, 1, "[1, 2]").expectError(400, null);
    api.post("/telemetry_report", "{}", metadataHeaders(validator, 70_000)).expectError(400, "UID");
    event(validator, 1, "\"not an object\"").expectError(400, "payload");
    api.post("/event_report", "{\"hotkey\": \"" + validator + "\"}").expectError(400, "commit");
    String big = "{\"stacktrace\": \"" + "x".repeat(40_000) + "\"}";
    telemetry(validator, 1, big).expectError(413, null);
    assertEquals(null, validatorRow(validator), "nothing stored");
  }
}
