package io.sn11.coordinator.http;

import static io.sn11.coordinator.http.ApiNode.JSON;
import static io.sn11.coordinator.http.ApiNode.hotkey;
import static io.sn11.coordinator.http.ApiNode.model;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sn11.coordinator.http.ApiNode.Model;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * GET /weights, POST /admin/weights/fold and POST /weights/preview with numbers worked out by hand. The
 * node has one moving average (the ledger) that every admin fold at a new block continues, and the win
 * rates read the whole registry, so this class has a node of its own and its ordered tests run in order,
 * each continuing the average the previous one left. Reading never folds: only the admin route does.
 *
 * <p>Default rules: the later submission's score x0.97 before comparing, win_rate = wins / (n - 1),
 * step = softmax(win_rate / 0.075), average = 0.9 * previous + 0.1 * step (previous 0 at first). The
 * chain's current block as the node knows it is the highest block in its registry (no reference
 * configured); a block more than 7200 beyond it is refused.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WeightsApiTest {
  private static final double EPS = 1e-12;
  private static final double T = 0.075;

  @TempDir static Path dataDir;
  static ApiNode api;

  // The registry: uid 0 scores 0.6 at block 100, uid 1 scores 0.6 at block 200, uid 2 scores 0.3 at block 50.
  static final Model UID0 = model("weights", "model-a", hotkey("weights-a"), 100);
  static final Model UID1 = model("weights", "model-b", hotkey("weights-b"), 200);
  static final Model UID2 = model("weights", "model-c", hotkey("weights-c"), 50);
  // Registered later, at block 5000 (after the current block of test 8).
  static final Model UID3 = model("weights", "model-d", hotkey("weights-d"), 5_000);

  /** The first step (block 1000), and the state kept for the tests that continue the average. */
  static double[] step1;
  static JsonNode foldedAt2000;

  @BeforeAll
  static void startNodeAndRegisterThreeMiners() throws Exception {
    api = ApiNode.start(dataDir);
    importAndRegister(0, UID0, 0.6);
    importAndRegister(1, UID1, 0.6);
    importAndRegister(2, UID2, 0.3);
    // A fold is for good: every fold below must see the whole registry, so wait for the read side.
    for (int uid = 0; uid < 3; uid++) api.awaitReadSide(uid, List.of(UID0, UID1, UID2).get(uid), "COMPLETED");
  }

  @AfterAll
  static void stopNode() throws Exception {
    if (api != null) api.close();
  }

  /** Imports a judge score (total = judge score under the default rule) and registers the model at its block. */
  private static void importAndRegister(int uid, Model model, double judgeScore) throws Exception {
    assertEquals(judgeScore, api.importJudgeScore(model, judgeScore).expect(200).body().at("/score/total_score").asDouble());
    api.register(uid, model).expect(200);
  }

  /** The last folded state, as anyone reads it. */
  private static JsonNode folded() throws Exception {
    return api.get("/weights").expect(200).body();
  }

  private static JsonNode history() throws Exception {
    return api.get("/weights/history?limit=500").expect(200).body().get("steps");
  }

  private static JsonNode row(JsonNode answer, int uid) {
    for (JsonNode row : answer.get("uids")) if (row.get("uid").asInt() == uid) return row;
    throw new AssertionError("no uid " + uid + " in " + answer);
  }

  private static double[] softmax(double... winRates) {
    double max = Double.NEGATIVE_INFINITY;
    for (double r : winRates) max = Math.max(max, r);
    double[] e = new double[winRates.length];
    double sum = 0;
    for (int i = 0; i < e.length; i++) sum += e[i] = Math.exp((winRates[i] - max) / T);
    for (int i = 0; i < e.length; i++) e[i] /= sum;
    return e;
  }

  /** uid -> weight of an answer's rows. */
  private static Map<Integer, Double> weightsOf(JsonNode answer) {
    Map<Integer, Double> weights = new TreeMap<>();
    answer.get("uids").forEach(r -> weights.put(r.get("uid").asInt(), r.get("weight").asDouble()));
    return weights;
  }

  /** Nothing persisted changed since {@code before} (the folded state) and {@code steps} (the history's length). */
  private static void assertNothingFolded(JsonNode before, int steps) throws Exception {
    assertEquals(before, folded());
    assertEquals(steps, history().size());
  }

  // ---- reading never folds ------------------------------------------------------------------------

  @Test
  @Order(1)
  void anonymousReadsChangeNothingPersisted() throws Exception {
    // The report: 31 anonymous GETs with a burn moved the average to an unregistered uid. The burn is
    // configuration now: those parameters are refused.
    for (int i = 0; i < 31; i++) api.get("/weights?current_block=" + (1_000 + i) + "&burn_uid=7&burn_share=1").expectError(400, "burn_uid");
    api.get("/weights?current_block=1000&burn_share=1").expectError(400, "burn_share");
    // One GET at the largest block stopped all later folding: far beyond the chain, refused.
    api.get("/weights?current_block=9007199254740991").expectError(400, "current_block");

    JsonNode state = folded();
    assertFalse(state.get("preview").asBoolean());
    assertTrue(state.get("last_folded_block").isNull(), state::toString);
    assertEquals(0, state.get("uids").size());
    // A block in range is a preview: the answer says so, and it folds nothing either.
    JsonNode preview = api.get("/weights?current_block=1000").expect(200).body();
    assertTrue(preview.get("preview").asBoolean());
    assertEquals(1_000, preview.get("current_block").asLong());
    assertTrue(preview.get("last_folded_block").isNull(), preview::toString);
    assertNothingFolded(state, 0);
  }

  @Test
  @Order(2)
  void foldingNeedsAnAdminToken() throws Exception {
    JsonNode before = folded();
    ObjectNode body = JSON.createObjectNode().put("current_block", 1_000);
    api.post("/admin/weights/fold", body).expectError(401, "Authorization");
    api.post("/admin/weights/fold", body, "Authorization", "Bearer not-the-token").expectError(401, "Authorization");
    assertNothingFolded(before, 0);
  }

  @Test
  @Order(3)
  void theFirstFoldIsWorkedByHandAndIsWhatItsPreviewSaid() throws Exception {
    JsonNode preview = api.get("/weights?current_block=1000").expect(200).body();
    JsonNode answer = api.foldWeights(1_000).expect(200).body();
    assertFalse(answer.get("preview").asBoolean());
    assertEquals(1_000, answer.get("current_block").asLong());
    assertEquals(1_000, answer.get("last_folded_block").asLong());
    assertEquals(3, answer.get("uids").size());

    // Pairs (the later block's score x0.97):
    //   uid0 (0.6 @100) vs uid1 (0.6 @200): 0.6 > 0.6*0.97 = 0.582 -> uid0 wins
    //   uid0 (0.6 @100) vs uid2 (0.3 @50):  0.6*0.97 = 0.582 > 0.3 -> uid0 wins
    //   uid1 (0.6 @200) vs uid2 (0.3 @50):  0.582 > 0.3            -> uid1 wins
    // wins 2, 1, 0; n = 3 -> win rates 2/2 = 1.0, 1/2 = 0.5, 0/2 = 0.0
    int[] wins = {2, 1, 0};
    double[] winRates = {1.0, 0.5, 0.0};
    // softmax(win_rate / 0.075): exp(0) = 1, exp(-0.5/0.075) = exp(-6.667) = 0.0012726, exp(-13.333) = 1.6196e-6;
    // sum 1.0012743 -> step 0.9987274, 0.0012710, 1.6175e-6
    step1 = softmax(winRates);
    assertEquals(0.9987273682571908, step1[0], EPS);
    assertEquals(0.001271014207167251, step1[1], EPS);
    assertEquals(1.6175356420241609e-06, step1[2], EPS);
    for (int uid = 0; uid < 3; uid++) {
      JsonNode row = row(answer, uid);
      assertEquals(wins[uid], row.get("wins").asInt(), row::toString);
      assertEquals(winRates[uid], row.get("win_rate").asDouble(), EPS, row::toString);
      assertFalse(row.get("invalid").asBoolean(), row::toString);
      assertTrue(row.get("reason").isNull(), row::toString);
      assertEquals(step1[uid], row.get("step_weight").asDouble(), EPS, row::toString);
      // First fold: 0.9 * 0 + 0.1 * step -> 0.0998727, 0.00012710, 1.6175e-7
      assertEquals(0.1 * step1[uid], row.get("weight").asDouble(), EPS, row::toString);
    }
    assertEquals(UID1.hash(), row(answer, 1).get("hash").asText());
    assertEquals(0.6, row(answer, 1).get("score").asDouble(), EPS);
    assertEquals(200, row(answer, 1).get("block").asLong());

    // The preview had said exactly this: the same rows, steps and resulting average, only not persisted.
    assertTrue(preview.get("preview").asBoolean());
    assertEquals(answer.get("uids"), preview.get("uids"));

    // Anyone now reads the folded state: the block and the average of every uid.
    JsonNode state = folded();
    assertEquals(1_000, state.get("last_folded_block").asLong());
    assertEquals(weightsOf(answer), weightsOf(state));
    assertEquals(List.of(1_000L), history().findValuesAsText("block").stream().map(Long::parseLong).toList());

    // Like every admin action, the fold is recorded.
    JsonNode actions =
        ApiNode.await(
            "the fold in the admin actions",
            () -> api.send(api.request("/admin/actions").header("Authorization", "Bearer " + ApiNode.TOKEN).GET().build()).expect(200).body(),
            body -> body.get("actions").findValuesAsText("action").contains("admin_weights_fold"));
    for (JsonNode action : actions.get("actions")) {
      if (action.get("action").asText().equals("admin_weights_fold")) assertEquals(200, action.get("status").asInt(), action::toString);
    }
  }

  @Test
  @Order(4)
  void aBlockNotAfterTheLastFoldedOneDoesNotFold() throws Exception {
    JsonNode before = folded();
    // The same block again (a retried request) and an older one: refused, nothing folded twice.
    api.foldWeights(1_000).expectError(409, "current_block");
    api.foldWeights(900).expectError(409, "current_block");
    api.get("/weights?current_block=1000").expectError(409, "current_block");
    assertNothingFolded(before, 1);
  }

  @Test
  @Order(5)
  void aLaterBlockContinuesTheAverage() throws Exception {
    JsonNode preview = api.get("/weights?current_block=2000").expect(200).body();
    foldedAt2000 = api.foldWeights(2_000).expect(200).body();
    assertEquals(2_000, foldedAt2000.get("last_folded_block").asLong());
    for (int uid = 0; uid < 3; uid++) {
      // Same registry, same step: 0.9 * (0.1 * step) + 0.1 * step = 0.19 * step -> 0.1897582, 0.00024149, 3.0733e-7
      assertEquals(step1[uid], row(foldedAt2000, uid).get("step_weight").asDouble(), EPS);
      assertEquals(0.19 * step1[uid], row(foldedAt2000, uid).get("weight").asDouble(), EPS);
    }
    assertEquals(0.18975819996886625, row(foldedAt2000, 0).get("weight").asDouble(), EPS);
    assertEquals(foldedAt2000.get("uids"), preview.get("uids"));
    assertEquals(weightsOf(foldedAt2000), weightsOf(folded()));
  }

  @Test
  @Order(6)
  void previewChangesNothing() throws Exception {
    JsonNode minerboard = api.get("/minerboard").expect(200).body();
    JsonNode before = folded();
    ArrayNode entries = JSON.createArrayNode();
    entries.addObject().put("uid", 0).put("block", 1).put("score", 1.0);
    entries.addObject().put("uid", 1).put("block", 2).put("score", 0.1);
    api.post("/weights/preview", JSON.createObjectNode().set("entries", entries)).expect(200);
    api.get("/weights?current_block=2500").expect(200);

    // The ledger is where it was, and the registry too.
    assertNothingFolded(before, 2);
    assertEquals(2_000, before.get("last_folded_block").asLong());
    assertEquals(minerboard, api.get("/minerboard").expect(200).body());
  }

  @Test
  @Order(7)
  void aBlockFarBeyondTheChainIsRefusedAndLaterFoldsStillWork() throws Exception {
    JsonNode before = folded();
    // The highest block the node has seen is uid 1's registration, 200; with 7200 blocks allowed beyond
    // it, 7400 is the last block it accepts.
    ApiNode.Answer refused = api.foldWeights(7_401).expectError(400, "current_block");
    assertTrue(refused.detail().contains("7400"), refused.detail());
    api.foldWeights(9_007_199_254_740_991L).expectError(400, "current_block");
    api.get("/weights?current_block=7401").expectError(400, "current_block");
    assertNothingFolded(before, 2);
    assertTrue(api.get("/weights?current_block=7400").expect(200).body().get("preview").asBoolean());

    // Folding goes on: the third fold of the same step, 0.9 * 0.19 * step + 0.1 * step = 0.271 * step.
    JsonNode answer = api.foldWeights(2_500).expect(200).body();
    assertEquals(2_500, folded().get("last_folded_block").asLong());
    for (int uid = 0; uid < 3; uid++) assertEquals(0.271 * step1[uid], row(answer, uid).get("weight").asDouble(), EPS);
  }

  @Test
  @Order(8)
  void anEntryRegisteredAfterTheCurrentBlockIsInvalid() throws Exception {
    importAndRegister(3, UID3, 0.9);
    api.awaitReadSide(3, UID3, "COMPLETED");

    JsonNode answer = api.foldWeights(3_000).expect(200).body();
    JsonNode late = row(answer, 3);
    assertTrue(late.get("invalid").asBoolean());
    assertEquals("registered at block 5000, after the current block", late.get("reason").asText());
    assertTrue(late.get("win_rate").isNull(), late::toString);
    assertEquals(0, late.get("wins").asInt());
    assertEquals(0.0, late.get("step_weight").asDouble());
    assertEquals(0.0, late.get("weight").asDouble());

    // It still counts in n = 4 and compares with score 0, which everyone else beats:
    // uid0 3 wins -> 3/3 = 1, uid1 2 wins -> 2/3, uid2 1 win -> 1/3
    double[] winRates = {1.0, 2.0 / 3, 1.0 / 3};
    // softmax: 1, exp(-4.444) = 0.011744, exp(-8.889) = 0.00013791; sum 1.0118815 -> 0.9882580, 0.0116057, 0.00013629
    double[] step = softmax(winRates);
    assertEquals(0.9882579721224202, step[0], EPS);
    for (int uid = 0; uid < 3; uid++) {
      JsonNode row = row(answer, uid);
      assertEquals(winRates[uid], row.get("win_rate").asDouble(), EPS, row::toString);
      assertEquals(step[uid], row.get("step_weight").asDouble(), EPS, row::toString);
      // 0.9 * previous (0.271 * step1) + 0.1 * step
      assertEquals(0.9 * 0.271 * step1[uid] + 0.1 * step[uid], row.get("weight").asDouble(), EPS, row::toString);
    }
  }

  @Test
  @Order(9)
  void badWeightsRequestsAre400AndFoldNothing() throws Exception {
    JsonNode before = folded();
    int steps = history().size();
    api.get("/weights?current_block=-1").expectError(400, "current_block");
    api.get("/weights?current_block=12.5").expectError(400, "current_block");
    api.get("/weights?current_block=5000&burn_uid=7").expectError(400, "burn_uid");
    api.get("/weights?current_block=5000&burn_uid=7&burn_share=0.5").expectError(400, "burn_uid");
    api.get("/weights?current_block=5000&turbo=1").expectError(400, "turbo");
    fold("{}").expectError(400, "current_block");
    fold("{\"current_block\": -1}").expectError(400, "current_block");
    fold("{\"current_block\": 5000.5}").expectError(400, "current_block");
    fold("{\"current_block\": \"soon\"}").expectError(400, "current_block");
    fold("{\"current_block\": [5000]}").expectError(400, "current_block");
    fold("{\"current_block\": 5000, \"burn_uid\": 7, \"burn_share\": 1}").expectError(400, "burn_share");
    fold("[5000]").expectError(400, null);
    fold("not json").expectError(400, null);
    assertNothingFolded(before, steps);
  }

  private static ApiNode.Answer fold(String body) throws Exception {
    return api.post("/admin/weights/fold", body, "Authorization", "Bearer " + ApiNode.TOKEN);
  }

  // ---- POST /weights/preview ---------------------------------------------------------------------

  @Test
  void previewWorkedByHandWithTiesAndEqualBlocks() throws Exception {
    ArrayNode entries = JSON.createArrayNode();
    entries.addObject().put("uid", 10).put("block", 10).put("score", 0.5);
    entries.addObject().put("uid", 11).put("block", 10).put("score", 0.5); // same score, same block as uid 10
    entries.addObject().put("uid", 12).put("block", 20).put("score", 0.515); // higher, but later
    entries.addObject().put("uid", 13).put("block", 5).put("score", 0.0); // a zero score cannot earn weight
    entries.addObject().put("uid", 14).put("block", 1).put("score", 0.9).put("invalid", true);
    JsonNode answer = api.post("/weights/preview", JSON.createObjectNode().set("entries", entries)).expect(200).body();
    assertEquals(0, answer.get("current_block").asLong());
    assertNull(answer.get("folded"));

    // uid10 vs uid11: 0.5 vs 0.5, equal blocks, no factor -> a tie: neither wins
    // uid10 vs uid12: 0.5 > 0.515 * 0.97 = 0.49955                   -> uid10 wins (so does uid11)
    // uid10 vs uid13: 0.5 * 0.97 = 0.485 > 0                         -> uid10 wins (so do uid11 and uid12)
    // anyone vs uid14: invalid compares as 0                         -> uid10, uid11, uid12 win
    // wins 3, 3, 2, 0, 0; n = 5 -> 3/4 = 0.75, 0.75, 2/4 = 0.5; uid13 (score 0) and uid14 (invalid): minus infinity (null)
    int[] wins = {3, 3, 2, 0, 0};
    Double[] winRates = {0.75, 0.75, 0.5, null, null};
    // softmax: exp(0) = 1, 1, exp(-0.25/0.075) = exp(-3.333) = 0.035674, 0, 0; sum 2.035674
    //   -> 0.4912378, 0.4912378, 0.0175244, 0, 0
    double[] step = {0.4912377931181913, 0.4912377931181913, 0.017524413763617304, 0, 0};
    double[] computed = softmax(0.75, 0.75, 0.5);
    for (int i = 0; i < 3; i++) assertEquals(step[i], computed[i], EPS);
    for (int i = 0; i < 5; i++) {
      JsonNode row = answer.get("uids").get(i);
      assertEquals(10 + i, row.get("uid").asInt());
      assertEquals(wins[i], row.get("wins").asInt(), row::toString);
      if (winRates[i] == null) assertTrue(row.get("win_rate").isNull(), row::toString);
      else assertEquals(winRates[i], row.get("win_rate").asDouble(), EPS, row::toString);
      assertEquals(step[i], row.get("step_weight").asDouble(), EPS, row::toString);
      assertNull(row.get("weight"), "a preview folds nothing: " + row);
    }
    assertEquals("marked invalid by the caller", answer.at("/uids/4/reason").asText());
    assertTrue(answer.at("/uids/4/invalid").asBoolean());
    assertFalse(answer.at("/uids/3/invalid").asBoolean());

    // With a burn of 25 % to uid 99: the others x0.75, uid 99 appended with 0.25.
    ObjectNode burned = JSON.createObjectNode().put("burn_uid", 99).put("burn_share", 0.25);
    burned.set("entries", entries);
    JsonNode withBurn = api.post("/weights/preview", burned).expect(200).body();
    assertEquals(6, withBurn.get("uids").size());
    for (int i = 0; i < 5; i++) assertEquals(0.75 * step[i], withBurn.get("uids").get(i).get("step_weight").asDouble(), EPS);
    assertEquals(99, withBurn.at("/uids/5/uid").asInt());
    assertEquals(0.25, withBurn.at("/uids/5/step_weight").asDouble(), EPS);
  }

  @Test
  void previewOfOneEntryAndOfNone() throws Exception {
    ArrayNode one = JSON.createArrayNode();
    one.addObject().put("uid", 1).put("block", 1).put("score", 0.4);
    // n = 1: win rate 0 (no opponent), and the whole step.
    JsonNode answer = api.post("/weights/preview", JSON.createObjectNode().set("entries", one)).expect(200).body();
    assertEquals(0.0, answer.at("/uids/0/win_rate").asDouble());
    assertEquals(1.0, answer.at("/uids/0/step_weight").asDouble(), EPS);
    JsonNode none = api.post("/weights/preview", JSON.createObjectNode().set("entries", JSON.createArrayNode())).expect(200).body();
    assertEquals(0, none.get("uids").size());
  }

  @Test
  void previewRefusesBadEntriesNamingThem() throws Exception {
    preview("{}").expectError(400, "entries");
    preview("{\"entries\": {}}").expectError(400, "entries");
    preview("{\"entries\": [1]}").expectError(400, "entries[0]");
    preview("{\"entries\": [{\"block\": 1, \"score\": 0.5}]}").expectError(400, "entries[0].uid");
    preview("{\"entries\": [{\"uid\": 65536, \"block\": 1, \"score\": 0.5}]}").expectError(400, "entries[0].uid");
    preview("{\"entries\": [{\"uid\": 1, \"block\": 1, \"score\": 0.5}, {\"uid\": 1, \"block\": 2, \"score\": 0.5}]}")
        .expectError(400, "entries[1].uid");
    preview("{\"entries\": [{\"uid\": 1, \"block\": -1, \"score\": 0.5}]}").expectError(400, "entries[0].block");
    preview("{\"entries\": [{\"uid\": 1, \"block\": 1.5, \"score\": 0.5}]}").expectError(400, "entries[0].block");
    preview("{\"entries\": [{\"uid\": 1, \"block\": 1, \"score\": 0.5}, {\"uid\": 2, \"block\": 1}]}").expectError(400, "entries[1].score");
    preview("{\"entries\": [{\"uid\": 1, \"block\": 1, \"score\": \"0.5\"}]}").expectError(400, "entries[0].score");
    preview("{\"entries\": [{\"uid\": 1, \"block\": 1, \"score\": -0.5}]}").expectError(400, "entries[0].score");
    preview("{\"entries\": [{\"uid\": 1, \"block\": 1, \"score\": 0.5, \"invalid\": \"yes\"}]}").expectError(400, "entries[0].invalid");
    preview("{\"entries\": [], \"burn_uid\": 3}").expectError(400, "burn_share");
    preview("{\"entries\": [], \"burn_uid\": 3, \"burn_share\": 2}").expectError(400, "burn_share");
    preview("not json").expectError(400, null);
  }

  private static ApiNode.Answer preview(String body) throws Exception {
    return api.post("/weights/preview", body);
  }
}
