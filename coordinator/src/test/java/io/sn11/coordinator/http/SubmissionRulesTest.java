package io.sn11.coordinator.http;

import static io.sn11.coordinator.http.ApiNode.hotkey;
import static io.sn11.coordinator.http.ApiNode.model;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sn11.coordinator.http.ApiNode.Model;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.StreamSupport;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The submission rules under concurrent submissions, on two coordinators of one cluster sharing one
 * database (two actor systems in this JVM over loopback): one model per hotkey per window however a
 * hotkey's submissions arrive and whichever coordinator takes them, and a refused submission is never
 * the original of its repository. Each trial uses a fresh hotkey, so the trials do not see each other.
 */
class SubmissionRulesTest {
  private static final int TRIALS = 20;
  private static final int AT_ONCE = 10;

  @TempDir static Path dataDir;
  static ApiNode first;
  static ApiNode second;
  static ExecutorService clients;

  @BeforeAll
  static void startTwoCoordinators() throws Exception {
    Map<String, Object> sameJvm = Map.of("pekko.cluster.jmx.multi-mbeans-in-same-jvm", "on");
    first = ApiNode.start(dataDir, sameJvm, List.of());
    Map<String, Object> joining = new LinkedHashMap<>(sameJvm);
    joining.put("pekko.cluster.seed-nodes", List.of(Cluster.get(first.node().system()).selfMember().address().toString()));
    // The same data folder: the same embedded database, as coordinators of one cluster share theirs.
    second = ApiNode.start(dataDir, joining, List.of());
    for (ApiNode node : List.of(first, second)) ApiNode.await("both coordinators Up", () -> upMembers(node), up -> up == 2);
    clients = Executors.newFixedThreadPool(AT_ONCE);
  }

  @AfterAll
  static void stopCoordinators() throws Exception {
    if (clients != null) clients.shutdownNow();
    if (second != null) second.close();
    if (first != null) first.close();
  }

  private static long upMembers(ApiNode node) {
    return StreamSupport.stream(Cluster.get(node.node().system()).state().getMembers().spliterator(), false)
        .filter(member -> member.status() == MemberStatus.up())
        .count();
  }

  /** {@code count} distinct models of one fresh hotkey, all at the same block. */
  private static List<Model> modelsOfAFreshHotkey(String trial, int count) {
    String key = hotkey(trial);
    List<Model> models = new ArrayList<>();
    for (int i = 0; i < count; i++) models.add(model("window-" + trial, "model-" + i, key, 1_000));
    return models;
  }

  /**
   * Sends {@code models} at the same moment, model i to {@code fronts[i % fronts.size()]}, and answers
   * how many were accepted (QUEUED). Every other one must be refused by the window rule (FAILED, the
   * miner's fault); when exactly one was accepted the refusals must name it.
   */
  private static int acceptedAtOnce(List<Model> models, List<ApiNode> fronts) throws Exception {
    CountDownLatch start = new CountDownLatch(1);
    List<Future<JsonNode>> answers = new ArrayList<>();
    for (int i = 0; i < models.size(); i++) {
      ApiNode front = fronts.get(i % fronts.size());
      Model model = models.get(i);
      answers.add(
          clients.submit(
              () -> {
                start.await();
                return front.adminPost("/check_model", model.json()).expect(200).body();
              }));
    }
    start.countDown();
    List<JsonNode> records = new ArrayList<>();
    for (Future<JsonNode> answer : answers) records.add(answer.get());
    return acceptedAmong(records);
  }

  /** How many of {@code records} were accepted; checks that the others were refused by the window, naming the accepted one. */
  private static int acceptedAmong(List<JsonNode> records) {
    List<String> accepted = new ArrayList<>();
    for (JsonNode record : records) if (record.path("status").asText().equals("QUEUED")) accepted.add(record.at("/details/hash").asText());
    for (JsonNode record : records) {
      if (record.path("status").asText().equals("QUEUED")) continue;
      assertEquals("FAILED", record.path("status").asText(), record::toString);
      assertEquals("miner", record.at("/details/failure/category").asText(), record::toString);
      String reason = record.at("/details/failure/reason").asText();
      assertTrue(reason.contains("one model per 57600 blocks"), reason);
      if (accepted.size() == 1) assertTrue(reason.contains(accepted.get(0)), () -> "the refusal names the accepted model " + accepted + ": " + reason);
    }
    return accepted.size();
  }

  private static void assertOneAcceptedPerTrial(List<Integer> acceptedPerTrial) {
    assertEquals(Collections.nCopies(acceptedPerTrial.size(), 1), acceptedPerTrial, "models accepted per trial");
  }

  // ---- one model per hotkey per window -----------------------------------------------------------

  @Test
  void twoModelsOfAFreshHotkeySentAtOnceOneIsAccepted() throws Exception {
    List<Integer> accepted = new ArrayList<>();
    for (int trial = 0; trial < TRIALS; trial++) accepted.add(acceptedAtOnce(modelsOfAFreshHotkey("pair-" + trial, 2), List.of(first)));
    assertOneAcceptedPerTrial(accepted);
  }

  @Test
  void tenModelsOfAFreshHotkeySentAtOnceOneIsAccepted() throws Exception {
    List<Integer> accepted = new ArrayList<>();
    for (int trial = 0; trial < TRIALS / 2; trial++) accepted.add(acceptedAtOnce(modelsOfAFreshHotkey("ten-" + trial, AT_ONCE), List.of(first)));
    assertOneAcceptedPerTrial(accepted);
  }

  @Test
  void twoModelsOfAFreshHotkeySentBackToBackTheSecondIsRefused() throws Exception {
    List<Integer> accepted = new ArrayList<>();
    for (int trial = 0; trial < TRIALS; trial++) {
      List<JsonNode> records = new ArrayList<>();
      for (Model model : modelsOfAFreshHotkey("back-to-back-" + trial, 2)) records.add(first.adminPost("/check_model", model.json()).expect(200).body());
      assertEquals("QUEUED", records.get(0).path("status").asText(), records.get(0)::toString);
      accepted.add(acceptedAmong(records));
    }
    assertOneAcceptedPerTrial(accepted);
  }

  @Test
  void modelsOfAFreshHotkeySentAtOnceToBothCoordinatorsOneIsAccepted() throws Exception {
    List<ApiNode> both = List.of(first, second);
    List<Integer> pairs = new ArrayList<>();
    for (int trial = 0; trial < TRIALS; trial++) pairs.add(acceptedAtOnce(modelsOfAFreshHotkey("two-nodes-pair-" + trial, 2), both));
    assertOneAcceptedPerTrial(pairs);
    List<Integer> tens = new ArrayList<>();
    for (int trial = 0; trial < TRIALS / 2; trial++) tens.add(acceptedAtOnce(modelsOfAFreshHotkey("two-nodes-ten-" + trial, AT_ONCE), both));
    assertOneAcceptedPerTrial(tens);
  }

  // ---- duplicates: only accepted submissions are originals ---------------------------------------

  @Test
  void aSubmissionRefusedByTheWindowIsNeverTheOriginalOfItsRepository() throws Exception {
    String minerA = hotkey("refused-original-a");
    Model acceptedOfA = model("refused-original-a", "first", minerA, 1_000);
    assertEquals("QUEUED", first.adminPost("/check_model", acceptedOfA.json()).expect(200).body().path("status").asText());
    first.awaitReadSide(0, acceptedOfA, "QUEUED");
    Model refusedOfA = model("shared-org", "shared-model", minerA, 2_000);
    assertEquals("FAILED", first.adminPost("/check_model", refusedOfA.json()).expect(200).body().path("status").asText());
    // Registered too, and on the read side before the other miner submits the same repository.
    first.awaitReadSide(1, refusedOfA, "FAILED");

    Model ofB = model("shared-org", "shared-model", hotkey("refused-original-b"), 3_000);
    JsonNode record = second.adminPost("/check_model", ofB.json()).expect(200).body();
    assertEquals("QUEUED", record.path("status").asText(), record::toString);
    assertTrue(record.at("/details/duplicate_of").isNull(), record::toString);

    first.importJudgeScore(ofB, 0.5).expect(200);
    first.awaitReadSide(2, ofB, "COMPLETED");
    JsonNode weights = first.get("/weights?current_block=5000").expect(200).body();
    Map<Integer, JsonNode> rows = new LinkedHashMap<>();
    weights.path("uids").forEach(row -> rows.put(row.path("uid").asInt(), row));
    assertFalse(rows.get(2).path("invalid").asBoolean(), weights::toString);
    assertTrue(rows.get(1).path("reason").asText().startsWith("evaluation failed"), weights::toString);
  }
}
