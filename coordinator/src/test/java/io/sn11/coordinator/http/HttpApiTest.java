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
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sn11.cluster.domain.Failure;
import io.sn11.cluster.domain.FailureCategory;
import io.sn11.cluster.domain.ModelDetails;
import io.sn11.coordinator.evaluation.ModelEvaluation;
import io.sn11.coordinator.http.ApiNode.Answer;
import io.sn11.coordinator.http.ApiNode.Model;
import java.io.ByteArrayInputStream;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP API against a real node: every route's answer and every refusal, status code and JSON body.
 * One node serves the whole class; each test uses its own hotkeys, repositories and uids so that the
 * tests do not see each other's models. The weights fold into one ledger and read the whole registry, so
 * they have a node of their own in {@link WeightsApiTest}.
 */
class HttpApiTest {
  @TempDir static Path dataDir;
  static ApiNode api;

  static final String ALICE = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
  static final String BOB = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";
  static final Set<String> SCORE_KEYS =
      Set.of(
          "model_size_score", "qualitative_score", "latency_score", "total_score", "coherence_score", "creativity_score",
          "post_eval_score", "judge_score");

  @BeforeAll
  static void startNode() throws Exception {
    api = ApiNode.start(dataDir);
  }

  @AfterAll
  static void stopNode() throws Exception {
    if (api != null) api.close();
  }

  private static Set<String> keys(JsonNode node) {
    Set<String> keys = new TreeSet<>();
    node.fieldNames().forEachRemaining(keys::add);
    return keys;
  }

  private static Answer checkModel(JsonNode body) throws Exception {
    return api.adminPost("/check_model", body);
  }

  // ---- POST /check_model ------------------------------------------------------------------------

  @Test
  void checkModelQueuesANewModelAndAnswersTheSubnetsRecordShape() throws Exception {
    Model m = model("alice-org", "roleplay-7b", ALICE, 4_000_000);
    JsonNode record = checkModel(m.json()).expect(200).body();

    assertEquals(Set.of("status", "score", "details"), keys(record));
    assertEquals("QUEUED", record.get("status").asText());
    // No score before an evaluation: the subnet's routes leave out what was not measured, our own say null.
    assertEquals(Set.of(), keys(record.get("score")));
    JsonNode ours = api.get("/models/" + m.hash()).expect(200).body();
    assertEquals(SCORE_KEYS, keys(ours.get("score")));
    ours.get("score").forEach(score -> assertTrue(score.isNull(), "no score before an evaluation: " + ours));

    JsonNode d = record.get("details");
    assertEquals(m.hash(), d.get("model_hash").asText());
    assertEquals("alice-org", d.get("repo_namespace").asText());
    assertEquals("roleplay-7b", d.get("repo_name").asText());
    assertEquals("chatml", d.get("chat_template_type").asText());
    assertEquals(ALICE, d.get("hotkey").asText());
    assertEquals(4_000_000, d.get("block").asLong());
    assertEquals("main", d.get("revision").asText());
    assertEquals(0, d.get("attempt").asInt());
    assertTrue(d.get("score_source").isNull());
    assertTrue(d.get("duplicate_of").isNull());
    assertTrue(d.get("failure").isNull());
    assertTrue(d.get("progress").isNull());
    assertTrue(d.get("evaluation").isObject());
    assertNotNull(java.time.Instant.parse(d.get("submitted_at").asText()));
    assertEquals(d.get("submitted_at"), d.get("updated_at"));
  }

  @Test
  void checkModelIsIdempotent() throws Exception {
    Model m = model("idem", "model", hotkey("idempotent"), 10);
    JsonNode first = checkModel(m.json()).expect(200).body();
    JsonNode again = checkModel(m.json()).expect(200).body();
    // The same record, same submitted_at: the second call changed nothing.
    assertEquals(first, again);
    // Even at another block: the model exists, it answers unchanged.
    assertEquals(first, checkModel(m.atBlock(20).json()).expect(200).body());
  }

  @Test
  void anAdminActionIsRecordedBeforeItIsAnswered() throws Exception {
    // No waiting: once an admin's answer is in hand, the record of the action is there too, through each
    // way an admin route records (a bearer route, an admin_key body, check_model's own path).
    Map<String, Integer> before = new java.util.HashMap<>();
    for (String action : List.of("check_model", "evaluate_model", "admin_results")) before.put(action, recordedActions(action).size());
    for (int i = 1; i <= 10; i++) {
      Model m = model("audit-first", "model-" + i, hotkey("audit-first-" + i), 10);
      checkModel(m.json()).expect(200);
      assertEquals(before.get("check_model") + i, recordedActions("check_model").size(), "check_model " + i);
      api.post("/evaluate_model", m.json().put("admin_key", TOKEN)).expect(200);
      assertEquals(before.get("evaluate_model") + i, recordedActions("evaluate_model").size(), "evaluate_model " + i);
      api.adminPost("/admin/results", m.json().set("score", JSON.createObjectNode().put("judge_score", 0.5))).expect(200);
      assertEquals(before.get("admin_results") + i, recordedActions("admin_results").size(), "admin_results " + i);
    }
  }

  private static List<JsonNode> recordedActions(String action) throws Exception {
    List<JsonNode> found = new java.util.ArrayList<>();
    for (JsonNode a : api.get("/admin/actions?limit=1000", "Authorization", "Bearer " + TOKEN).expect(200).body().path("actions")) {
      if (a.path("action").asText().equals(action)) found.add(a);
    }
    return found;
  }

  @Test
  void everyAdminActionIsRecordedWithTheTokensFingerprintNeverTheToken() throws Exception {
    Model m = model("audit", "model", hotkey("audit"), 10);
    checkModel(m.json()).expect(200);
    api.adminPost("/evaluate_model", m.json().put("priority", 1)).expectError(400, "priority");
    api.post("/minerboard_update", JSON.createObjectNode().put("uid", 1)).expectError(401, "Authorization");

    String fingerprint = "sha256:" + java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(TOKEN.getBytes(StandardCharsets.UTF_8)), 0, 6);
    api.get("/admin/actions").expectError(401, "Authorization");
    JsonNode actions =
        ApiNode.await(
            "both admin actions recorded",
            () -> api.get("/admin/actions?limit=1000", "Authorization", "Bearer " + TOKEN).expect(200).body().path("actions"),
            list -> list.findValues("action").stream().anyMatch(a -> a.asText().equals("evaluate_model")));
    List<String> ours = new java.util.ArrayList<>();
    for (JsonNode action : actions) {
      assertEquals(fingerprint, action.path("who").asText(), action::toString);
      assertFalse(action.toString().contains(TOKEN), "the token itself is never stored");
      if (action.path("action").asText().equals("evaluate_model")) ours.add("evaluate_model " + action.path("status").asInt());
      assertFalse(action.path("action").asText().equals("minerboard_update") && action.path("status").asInt() == 401, "a refused token is no admin");
    }
    assertTrue(ours.contains("evaluate_model 400"), ours::toString);
    assertTrue(actions.findValues("action").stream().anyMatch(a -> a.asText().equals("check_model")), actions::toString);
  }

  @Test
  void checkModelAcceptsTheAdminKeyInTheBody() throws Exception {
    Model m = model("adminkey", "model", hotkey("admin-key"), 10);
    // The subnet's clients also send the tokenizer: a known field, accepted and ignored.
    ObjectNode body = m.json().put("admin_key", TOKEN).put("tokenizer", "acme/tokenizer");
    Answer answer = api.post("/check_model", body).expect(200);
    assertEquals("QUEUED", answer.body().get("status").asText());
    assertEquals(m.hash(), answer.body().at("/details/model_hash").asText());
  }

  @Test
  void checkModelWithoutAValidTokenIs401BeforeAnyValidation() throws Exception {
    Model m = model("noauth", "model", hotkey("no-auth"), 10);
    api.post("/check_model", m.json()).expectError(401, "Authorization");
    api.post("/check_model", m.json(), "Authorization", "Bearer wrong-token").expectError(401, "Authorization");
    api.post("/check_model", m.json(), "Authorization", TOKEN).expectError(401, "Authorization"); // no "Bearer "
    // A wrong admin_key is refused as the subnet refuses it (SubnetClientsTest), still before any validation.
    api.post("/check_model", m.json().put("admin_key", "wrong-token")).expectError(403, "admin_key");
    // A body full of errors still says 401 only: nothing about the body leaks without a token.
    ObjectNode bad = m.json().put("repo_namespace", "a..b").put("hotkey", "0OIl").put("block", -1);
    api.post("/check_model", bad).expectError(401, "Authorization");
    // And nothing was recorded.
    api.get("/models/" + m.hash()).expectError(404, null);
  }

  @Test
  void checkModelRefusesEachBadFieldNamingIt() throws Exception {
    Model m = model("fields", "model", hotkey("bad-fields"), 10);
    checkModel(m.json().put("repo_namespace", "a..b")).expectError(400, "repo_namespace");
    checkModel(m.json().put("repo_namespace", "../etc")).expectError(400, "repo_namespace");
    checkModel(m.json().put("repo_name", "-leading-dash")).expectError(400, "repo_name");
    checkModel(m.json().put("repo_name", "a/b")).expectError(400, "repo_name");
    checkModel(withoutField(m.json(), "repo_name")).expectError(400, "repo_name");
    checkModel(m.json().put("chat_template_type", "no-such-template")).expectError(400, "chat_template_type");
    checkModel(m.json().put("hotkey", "0OIl" + "1".repeat(44))).expectError(400, "hotkey");
    checkModel(m.json().put("hotkey", "5short")).expectError(400, "hotkey");
    // Alice's address with its last character changed: base58 of the right length, wrong checksum.
    checkModel(m.json().put("hotkey", "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQZ")).expectError(400, "hotkey");
    checkModel(m.json().put("hash", "not-a-number")).expectError(400, "hash");
    checkModel(m.json().put("hash", "18446744073709551616")).expectError(400, "hash"); // 2^64
    checkModel(m.json().put("repo_url", "https://example.com")).expectError(400, "repo_url");
    api.adminPost("/evaluate_model", m.json().put("priority", 1)).expectError(400, "priority");
    checkModel(m.json().put("block", -1)).expectError(400, "block");
    checkModel(m.json().put("block", 1.5)).expectError(400, "block");
    checkModel(m.json().put("block", "ten")).expectError(400, "block");
    checkModel(m.json().set("repo_namespace", JSON.createArrayNode().add("x"))).expectError(400, "repo_namespace");
    // None of them was recorded.
    api.get("/models/" + m.hash()).expectError(404, null);
  }

  private static ObjectNode withoutField(ObjectNode body, String field) {
    body.remove(field);
    return body;
  }

  @Test
  void checkModelRefusesAHashThatDoesNotMatchTheDetails() throws Exception {
    Model m = model("mismatch", "model", hotkey("mismatch"), 10);
    String otherHash = model("mismatch", "other", m.hotkey(), 10).hash();
    Answer answer = checkModel(m.json().put("hash", otherHash)).expectError(400, "hash");
    assertEquals("Hash does not match the model details", answer.detail());
  }

  @Test
  void checkModelRefusesABodyAbove65536BytesWith413() throws Exception {
    Model m = model("big", "model", hotkey("big-body"), 10);
    String big = m.json().put("padding", "x".repeat(70_000)).toString();
    Answer withLength = api.post("/check_model", big, "Authorization", "Bearer " + TOKEN).expectError(413, null);
    assertTrue(withLength.detail().contains("65536"), withLength.detail());

    // Without a Content-Length (chunked), the limit applies while reading.
    HttpRequest chunked =
        api.request("/check_model")
            .header("Content-Type", "application/json")
            .header("Authorization", "Bearer " + TOKEN)
            .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big.getBytes(StandardCharsets.UTF_8))))
            .build();
    api.send(chunked).expectError(413, null);

    // Just below the limit the body is read and validated normally.
    ObjectNode fits = m.json();
    // Padding in a field the subnet's clients send (known, ignored), so that only the size is at stake.
    fits.put("tokenizer", "x".repeat(65_536 - fits.toString().length() - ",\"tokenizer\":\"\"".length()));
    assertEquals(65_536, fits.toString().getBytes(StandardCharsets.UTF_8).length);
    assertEquals("QUEUED", checkModel(fits).expect(200).body().get("status").asText());
  }

  @Test
  void checkModelRefusesInvalidJson() throws Exception {
    Answer answer = api.post("/check_model", "{\"repo_namespace\": ", "Authorization", "Bearer " + TOKEN).expectError(400, null);
    assertTrue(answer.detail().contains("not valid JSON"), answer.detail());
    api.post("/check_model", "[1, 2]", "Authorization", "Bearer " + TOKEN).expectError(400, null);
    api.post("/check_model", "", "Authorization", "Bearer " + TOKEN).expectError(400, null);
  }

  @Test
  void checkModelRefusesADuplicateKeyAndDataAfterTheJsonValue() throws Exception {
    Model m = model("strict", "json", hotkey("strict-json"), 10);
    String body = m.json().toString();
    // The same value twice: a lenient parser would keep the last one and accept the submission.
    String duplicate = body.substring(0, body.length() - 1) + ",\"repo_name\":\"json\"}";
    Answer answer = api.post("/check_model", duplicate, "Authorization", "Bearer " + TOKEN).expectError(400, null);
    assertTrue(answer.detail().contains("Duplicate field 'repo_name'"), answer.detail());
    for (String trailing : List.of(" {}", "\n{\"block\": 11}", "garbage")) {
      answer = api.post("/check_model", body + trailing, "Authorization", "Bearer " + TOKEN).expectError(400, null);
      assertTrue(answer.detail().contains("after the JSON value"), answer.detail());
    }
    api.get("/models/" + m.hash()).expectError(404, null);
  }

  @Test
  void aBodyThatIsNotSentAsJsonIsRefusedWith400NamingItsContentType() throws Exception {
    Model m = model("strict", "media-type", hotkey("strict-media-type"), 10);
    for (String contentType : List.of("text/plain", "application/x-www-form-urlencoded", "application/xml", "application/octet-stream")) {
      Answer answer = api.send(submissionAs(contentType, m)).expectError(400, "Content-Type");
      assertTrue(answer.detail().contains("application/json") && answer.detail().contains(contentType), answer.detail());
    }
    api.get("/models/" + m.hash()).expectError(404, null);
    // A charset parameter is still JSON.
    api.send(submissionAs("application/json; charset=utf-8", m)).expect(200);
  }

  private static HttpRequest submissionAs(String contentType, Model m) {
    return api.request("/check_model")
        .header("Content-Type", contentType)
        .header("Authorization", "Bearer " + TOKEN)
        .POST(HttpRequest.BodyPublishers.ofString(m.json().toString()))
        .build();
  }

  @Test
  void oneModelPerHotkeyPerWindowUnlessTheLastOneFailed() throws Exception {
    String key = hotkey("window");
    Model first = model("window", "first", key, 1_000);
    assertEquals("QUEUED", checkModel(first.json()).expect(200).body().get("status").asText());
    api.awaitReadSide(300, first, "QUEUED");

    // 57599 blocks later: still inside the window of 57600 -> recorded FAILED, the miner's fault.
    Model second = model("window", "second", key, 1_000 + 57_599);
    JsonNode refused = checkModel(second.json()).expect(200).body();
    assertEquals("FAILED", refused.get("status").asText());
    assertEquals("miner", refused.at("/details/failure/category").asText());
    String reason = refused.at("/details/failure/reason").asText();
    assertTrue(reason.contains("accepted at block 1000"), reason);
    assertTrue(reason.contains("allowed from block 58600"), reason);
    assertTrue(reason.contains(first.hash()), reason);
    // It is a record like any other: asking again answers the same refusal.
    assertEquals(refused, api.get("/model_submission_details?" + query(second.queryFields())).expect(200).body());
    api.awaitReadSide(301, second, "FAILED");

    // Exactly 57600 blocks after the accepted one: allowed again.
    Model third = model("window", "third", key, 1_000 + 57_600);
    JsonNode accepted = checkModel(third.json()).expect(200).body();
    assertEquals("QUEUED", accepted.get("status").asText());
    assertTrue(accepted.at("/details/failure").isNull());
  }

  @Test
  void afterTheLastModelFailedTheHotkeyMaySubmitAgainAtOnce() throws Exception {
    String key = hotkey("failed-then-again");
    Model first = model("retry", "first", key, 2_000);
    checkModel(first.json()).expect(200);
    failEvaluation(first.hash(), "the model does not load");
    api.awaitReadSide(302, first, "FAILED");

    Model second = model("retry", "second", key, 2_001);
    JsonNode record = checkModel(second.json()).expect(200).body();
    assertEquals("QUEUED", record.get("status").asText());
    assertTrue(record.at("/details/failure").isNull());
  }

  @Test
  void aNewModelRecordedWithAnImportedResultStartsItsHotkeysWindow() throws Exception {
    String key = hotkey("imported-window");
    assertEquals("QUEUED", checkModel(model("imported-window", "earlier", key, 0).json()).expect(200).body().get("status").asText());
    Model imported = model("imported-window", "imported", key, 100_000);
    api.importJudgeScore(imported, 0.5).expect(200);

    JsonNode refused = checkModel(model("imported-window", "next", key, 100_001).json()).expect(200).body();
    assertEquals("FAILED", refused.get("status").asText(), refused::toString);
    String reason = refused.at("/details/failure/reason").asText();
    assertTrue(reason.contains(imported.hash() + " accepted at block 100000"), reason);
  }

  @Test
  void aModelAcceptedBeforeTheHotkeysEntityExistedHoldsTheWindow() throws Exception {
    // As a deployment from before the hotkeys' entities left it: the model's own entity and the read side only.
    Model earlier = model("before-entities", "earlier", hotkey("before-entities"), 1_000);
    ModelDetails details =
        new ModelDetails(earlier.hash(), earlier.namespace(), earlier.name(), earlier.template(), earlier.hotkey(), earlier.block(), null, null);
    ClusterSharding.get(api.node().system())
        .entityRefFor(ModelEvaluation.TYPE_KEY, earlier.hash())
        .<ModelEvaluation.State>askWithStatus(r -> new ModelEvaluation.Submit(details, ModelEvaluation.Admission.ACCEPTED, r), Duration.ofSeconds(10))
        .toCompletableFuture()
        .get();
    api.awaitReadSide(303, earlier, "QUEUED");

    JsonNode refused = checkModel(model("before-entities", "next", earlier.hotkey(), 1_001).json()).expect(200).body();
    assertEquals("FAILED", refused.get("status").asText(), refused::toString);
    assertTrue(refused.at("/details/failure/reason").asText().contains(earlier.hash() + " accepted at block 1000"), refused::toString);
  }

  /** What a GPU node would do: claim the model and report a failure of the miner's model. */
  private static void failEvaluation(String hash, String reason) throws Exception {
    EntityRef<ModelEvaluation.Command> entity = ClusterSharding.get(api.node().system()).entityRefFor(ModelEvaluation.TYPE_KEY, hash);
    ModelEvaluation.State claimed =
        entity.<ModelEvaluation.State>askWithStatus(r -> new ModelEvaluation.Claim("test-worker", r), Duration.ofSeconds(10))
            .toCompletableFuture()
            .get();
    entity.<ModelEvaluation.State>askWithStatus(
            r -> new ModelEvaluation.Fail(claimed.attempt(), new Failure(reason, FailureCategory.MINER), r), Duration.ofSeconds(10))
        .toCompletableFuture()
        .get();
  }

  @Test
  void theSameRepositoryByAnotherHotkeyAtALaterBlockIsADuplicate() throws Exception {
    Model original = model("dup-org", "shared-model", hotkey("dup-original"), 500);
    checkModel(original.json()).expect(200);
    api.awaitReadSide(310, original, "QUEUED");

    Model copy = model("dup-org", "shared-model", hotkey("dup-copy"), 600);
    JsonNode record = checkModel(copy.json()).expect(200).body();
    assertEquals("QUEUED", record.get("status").asText());
    String duplicateOf = record.at("/details/duplicate_of").asText(null);
    assertNotNull(duplicateOf, record.toString());
    assertTrue(duplicateOf.contains(original.hash()), duplicateOf);
    assertTrue(duplicateOf.contains("block 500"), duplicateOf);

    // Submitted for an earlier block than the original: that one is not the copy.
    Model earlier = model("dup-org", "shared-model", hotkey("dup-earlier"), 400);
    assertTrue(checkModel(earlier.json()).expect(200).body().at("/details/duplicate_of").isNull());
    // The original itself stays clean.
    assertTrue(api.get("/model_submission_details?" + query(original.queryFields())).expect(200).body().at("/details/duplicate_of").isNull());
  }

  @Test
  void aMinersOwnEarlierModelOfTheSameRepositoryIsNotADuplicate() throws Exception {
    // Duplicates are about several miners; one miner's models are governed by the window rule.
    String key = hotkey("own-repository");
    Model first = new Model("own-repo", "model", "chatml", key, 1_000);
    checkModel(first.json()).expect(200);
    failEvaluation(first.hash(), "wrong chat template");
    api.awaitReadSide(311, first, "FAILED");

    Model again = new Model("own-repo", "model", "llama3", key, 1_001);
    JsonNode record = checkModel(again.json()).expect(200).body();
    assertEquals("QUEUED", record.get("status").asText());
    assertTrue(record.at("/details/duplicate_of").isNull(), record.toString());
  }

  @Test
  void theSameRepositoryInAnotherLetterCaseIsADuplicate() throws Exception {
    // Hugging Face resolves repository ids case-insensitively (as the weights' duplicate check does).
    Model original = model("Case-Org", "Shared-Model", hotkey("case-original"), 500);
    checkModel(original.json()).expect(200);
    api.awaitReadSide(312, original, "QUEUED");

    Model copy = model("case-org", "shared-model", hotkey("case-copy"), 600);
    String duplicateOf = checkModel(copy.json()).expect(200).body().at("/details/duplicate_of").asText(null);
    assertNotNull(duplicateOf);
    assertTrue(duplicateOf.contains(original.hash()), duplicateOf);
  }

  // ---- GET /model_submission_details -------------------------------------------------------------

  @Test
  void submissionDetailsAnswersTheRecord() throws Exception {
    Model m = model("details", "model", BOB, 77);
    JsonNode submitted = checkModel(m.json()).expect(200).body();
    Answer answer = api.get("/model_submission_details?" + query(m.queryFields())).expect(200);
    assertEquals("application/json", answer.contentType());
    assertEquals(submitted, answer.body());
    // Extra query parameters and extra headers are ignored.
    Map<String, Object> extra = new LinkedHashMap<>(m.queryFields());
    extra.put("utm_source", "validator");
    extra.put("competition", "whatever");
    assertEquals(
        submitted,
        api.get("/model_submission_details?" + query(extra), "X-Request-Id", "abc-123", "Authorization", "Bearer not-needed", "Accept", "*/*")
            .expect(200)
            .body());
  }

  @Test
  void submissionDetailsOfAnUnknownModelIsNullAsTheSubnetAnswers() throws Exception {
    Model m = model("unknown", "never-submitted", hotkey("unknown"), 1);
    Answer answer = api.get("/model_submission_details?" + query(m.queryFields())).expect(200);
    assertEquals("application/json", answer.contentType());
    assertEquals("null", answer.raw());
    // Our own route by hash says 404.
    assertTrue(api.get("/models/" + m.hash()).expectError(404, null).detail().contains(m.hash()));
  }

  @Test
  void submissionDetailsRefusesAMismatchedHashAndBadFields() throws Exception {
    Model m = model("details-mismatch", "model", hotkey("details-mismatch"), 1);
    Map<String, Object> fields = new LinkedHashMap<>(m.queryFields());
    fields.put("hash", model("x", "y", m.hotkey(), 1).hash());
    assertEquals("Hash does not match the model details", api.get("/model_submission_details?" + query(fields)).expectError(400, "hash").detail());
    fields.put("hash", "12abc");
    api.get("/model_submission_details?" + query(fields)).expectError(400, "hash");
    fields.remove("hash");
    api.get("/model_submission_details?" + query(fields)).expectError(400, "hash");
    api.get("/model_submission_details").expectError(400, "repo_namespace");
  }

  // ---- POST /minerboard_update, GET /minerboard --------------------------------------------------

  @Test
  void minerboardJoinsTheRegistryWithTheRecords() throws Exception {
    Model m = model("board", "model", hotkey("board"), 900);
    api.adminPost("/admin/results", m.json().set("score", JSON.createObjectNode().put("judge_score", 0.25))).expect(200);

    JsonNode update = api.register(400, m).expect(200).body();
    assertEquals(JSON.createObjectNode().put("uid", 400).put("hash", m.hash()).put("hotkey", m.hotkey()).put("block", 900), update);

    JsonNode row = api.awaitReadSide(400, m, "COMPLETED");
    assertEquals(m.hotkey(), row.get("hotkey").asText());
    assertEquals(900, row.get("block").asLong());
    assertEquals("board", row.get("repo_namespace").asText());
    assertEquals("model", row.get("repo_name").asText());
    assertEquals("chatml", row.get("chat_template_type").asText());
    // Flat, as the subnet serves it: the record's measured scores beside the registry entry.
    assertEquals(0.25, row.get("total_score").asDouble());
    assertEquals(0.25, row.get("judge_score").asDouble());
    assertFalse(row.has("coherence_score"), row::toString);
    assertTrue(row.get("duplicate_of").isNull());
    assertNotNull(java.time.Instant.parse(row.get("updated_at").asText()));

    // A uid naming a model nobody submitted: listed, without a status or a score.
    Model ghost = model("ghost", "model", hotkey("ghost"), 901);
    api.register(401, ghost).expect(200);
    JsonNode ghostRow = ApiNode.await("uid 401 on the minerboard", () -> api.minerboardRow(401), r -> r != null);
    assertEquals(Set.of("uid", "hotkey", "hash", "block", "updated_at"), keys(ghostRow));

    // Ordered by uid.
    List<Integer> uids = new ArrayList<>();
    api.get("/minerboard").expect(200).body().forEach(r -> uids.add(r.get("uid").asInt()));
    assertEquals(uids.stream().sorted().toList(), uids);
  }

  @Test
  void minerboardUpdateRefusesBadFieldsAndMissingTokens() throws Exception {
    Model m = model("board-bad", "model", hotkey("board-bad"), 1);
    ObjectNode body = JSON.createObjectNode().put("uid", 5).put("hash", m.hash()).put("hotkey", m.hotkey()).put("block", 1);
    api.post("/minerboard_update", body).expectError(401, "Authorization");
    api.post("/minerboard_update", body, "Authorization", "Bearer nope").expectError(401, "Authorization");
    api.adminPost("/minerboard_update", body.deepCopy().put("uid", 65_536)).expectError(400, "uid");
    api.adminPost("/minerboard_update", body.deepCopy().put("uid", -1)).expectError(400, "uid");
    api.adminPost("/minerboard_update", body.deepCopy().put("hash", "x1")).expectError(400, "hash");
    api.adminPost("/minerboard_update", body.deepCopy().put("hotkey", "nope")).expectError(400, "hotkey");
    api.adminPost("/minerboard_update", body.deepCopy().put("block", -5)).expectError(400, "block");
    api.adminPost("/minerboard_update", withoutField(body.deepCopy(), "block")).expectError(400, "block");
    api.adminPost("/minerboard_update", body.deepCopy().put("stake", 10)).expectError(400, "stake");
    assertTrue(api.get("/minerboard").expect(200).body().findValues("uid").stream().noneMatch(uid -> uid.asInt() == 5), "nothing registered");
  }

  // ---- GET /hc ------------------------------------------------------------------------------------

  @Test
  void healthCheck() throws Exception {
    Answer answer = api.get("/hc").expect(200);
    assertEquals("application/json", answer.contentType());
    assertEquals(JSON.createObjectNode().put("g", true), answer.body());
  }

  // ---- POST /evaluate_model ----------------------------------------------------------------------

  @Test
  void evaluateModelQueuesANewModel() throws Exception {
    Model m = model("evaluate", "new", hotkey("evaluate-new"), 3);
    api.post("/evaluate_model", m.json()).expectError(401, "Authorization");
    JsonNode record = api.adminPost("/evaluate_model", m.json()).expect(200).body();
    assertEquals("QUEUED", record.get("status").asText());
    assertEquals(m.hash(), record.at("/details/model_hash").asText());
    api.adminPost("/evaluate_model", m.json().put("hash", "123")).expectError(400, "hash");
  }

  @Test
  void evaluateModelRequeuesACompletedModelKeepingItsScoreVisible() throws Exception {
    Model m = model("evaluate", "completed", hotkey("evaluate-completed"), 3);
    JsonNode completed =
        api.adminPost("/admin/results", m.json().set("score", JSON.createObjectNode().put("judge_score", 0.7))).expect(200).body();
    assertEquals("COMPLETED", completed.get("status").asText());

    JsonNode requeued = api.adminPost("/evaluate_model", m.json()).expect(200).body();
    assertEquals("QUEUED", requeued.get("status").asText());
    // The subnet's route: the measured scores, the others left out.
    assertEquals(Set.of("total_score", "judge_score"), keys(requeued.get("score")));
    assertEquals(completed.at("/score/judge_score"), requeued.at("/score/judge_score"));
    assertEquals(0.7, requeued.at("/score/total_score").asDouble());
    assertEquals("import", requeued.at("/details/score_source").asText());
    assertEquals(completed.at("/details/submitted_at"), requeued.at("/details/submitted_at"));
    // The read side follows: QUEUED, with the previous score.
    JsonNode row = api.awaitReadSide(500, m, "QUEUED", r -> r.path("total_score").isNumber());
    assertEquals(0.7, row.get("total_score").asDouble());
  }

  // ---- POST /admin/results ------------------------------------------------------------------------

  @Test
  void adminResultsRecordsAResultWithItsSource() throws Exception {
    Model m = model("results", "imported", hotkey("results"), 12);
    ObjectNode body = m.json().put("source", "leaderboard-2025-01");
    body.set("score", JSON.createObjectNode().put("judge_score", 0.42).put("latency_score", 0.9).put("model_size_score", 0.8));
    api.post("/admin/results", body).expectError(401, "Authorization");

    JsonNode record = api.adminPost("/admin/results", body).expect(200).body();
    assertEquals("COMPLETED", record.get("status").asText());
    // Under the default (judge) rule the total score is the judge score.
    assertEquals(0.42, record.at("/score/total_score").asDouble());
    assertEquals(0.42, record.at("/score/judge_score").asDouble());
    assertEquals(0.9, record.at("/score/latency_score").asDouble());
    assertEquals(0.8, record.at("/score/model_size_score").asDouble());
    assertTrue(record.at("/score/coherence_score").isNull());
    assertEquals("leaderboard-2025-01", record.at("/details/score_source").asText());

    // Without a source: "import". An explicit total_score is kept as given.
    Model other = model("results", "explicit-total", hotkey("results-2"), 12);
    JsonNode second =
        api.adminPost("/admin/results", other.json().set("score", JSON.createObjectNode().put("total_score", 0.33).put("judge_score", 0.5)))
            .expect(200)
            .body();
    assertEquals("import", second.at("/details/score_source").asText());
    assertEquals(0.33, second.at("/score/total_score").asDouble());
  }

  @Test
  void adminResultsRefusesAMissingOrBadScore() throws Exception {
    Model m = model("results", "bad", hotkey("results-bad"), 12);
    api.adminPost("/admin/results", m.json()).expectError(400, "score");
    api.adminPost("/admin/results", m.json().put("score", 0.5)).expectError(400, "score");
    api.adminPost("/admin/results", m.json().set("score", JSON.createObjectNode().put("judge_score", -0.1))).expectError(400, "score.judge_score");
    api.adminPost("/admin/results", m.json().set("score", JSON.createObjectNode().put("judge_score", "high"))).expectError(400, "score.judge_score");
    // No total and nothing the judge rule can compute it from.
    api.adminPost("/admin/results", m.json().set("score", JSON.createObjectNode().put("latency_score", 0.5))).expectError(400, "score.total_score");
    api.adminPost("/admin/results", m.json().put("source", "s".repeat(65)).set("score", JSON.createObjectNode().put("judge_score", 0.5)))
        .expectError(400, "source");
    api.adminPost("/admin/results", m.json().set("score", JSON.createObjectNode().put("judge_score", 0.5).put("vibe_score", 0.1)))
        .expectError(400, "score.vibe_score");
    api.adminPost("/admin/results", m.json().put("note", "x").set("score", JSON.createObjectNode().put("judge_score", 0.5))).expectError(400, "note");
    // The block the model was submitted at: without it the record would say block 0.
    api.adminPost("/admin/results", withoutField(m.json(), "block").set("score", JSON.createObjectNode().put("judge_score", 0.5))).expectError(400, "block");
    api.get("/models/" + m.hash()).expectError(404, null);
  }

  // ---- GET /models/{hash}/events -----------------------------------------------------------------

  @Test
  void eventsListTheHistoryOldestFirst() throws Exception {
    Model m = model("events", "model", hotkey("events"), 8);
    api.adminPost("/admin/results", m.json().set("score", JSON.createObjectNode().put("judge_score", 0.5))).expect(200);
    api.adminPost("/evaluate_model", m.json()).expect(200);

    JsonNode answer = api.get("/models/" + m.hash() + "/events").expect(200).body();
    assertEquals(m.hash(), answer.get("hash").asText());
    List<String> types = new ArrayList<>();
    List<Long> sequence = new ArrayList<>();
    answer.get("events").forEach(e -> {
      types.add(e.get("type").asText());
      sequence.add(e.get("sequence_nr").asLong());
    });
    assertEquals(List.of("Submitted", "EvaluationCompleted", "Requeued"), types);
    assertEquals(List.of(1L, 2L, 3L), sequence);
    JsonNode submitted = answer.at("/events/0/event");
    assertEquals(m.hash(), submitted.at("/details/hash").asText(), submitted.toString());
    assertEquals(0.5, answer.at("/events/1/event/scores/judge_score").asDouble(), answer.toString());
    assertEquals("import", answer.at("/events/1/event/source").asText(), answer.toString());
  }

  @Test
  void eventsOfAnUnknownModelAre404AndANonNumericHashIs400() throws Exception {
    api.get("/models/" + model("events", "unknown", hotkey("events-unknown"), 1).hash() + "/events").expectError(404, null);
    api.get("/models/not-a-hash/events").expectError(400, "hash");
  }

  // ---- Pekko's own rejections, as JSON -----------------------------------------------------------

  @Test
  void unknownPathIs404Json() throws Exception {
    Answer answer = api.get("/no/such/path").expectError(404, null);
    assertNotNull(answer.detail());
  }

  @Test
  void wrongMethodIs405Json() throws Exception {
    api.get("/check_model").expectError(405, null);
    api.post("/hc", "{}").expectError(405, null);
    api.send(api.request("/minerboard").DELETE().build()).expectError(405, null);
  }
}
