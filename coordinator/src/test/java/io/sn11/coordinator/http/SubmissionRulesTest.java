package io.sn11.coordinator.http;

import static io.sn11.coordinator.http.ApiNode.hotkey;
import static io.sn11.coordinator.http.ApiNode.model;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sn11.coordinator.http.ApiNode.Model;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
  @TempDir static Path dataDir;
  static ApiNode first;
  static ApiNode second;

  @BeforeAll
  static void startTwoCoordinators() throws Exception {
    Map<String, Object> sameJvm = Map.of("pekko.cluster.jmx.multi-mbeans-in-same-jvm", "on");
    first = ApiNode.start(dataDir, sameJvm, List.of());
    Map<String, Object> joining = new LinkedHashMap<>(sameJvm);
    joining.put("pekko.cluster.seed-nodes", List.of(Cluster.get(first.node().system()).selfMember().address().toString()));
    // The same data folder: the same embedded database, as coordinators of one cluster share theirs.
    second = ApiNode.start(dataDir, joining, List.of());
    for (ApiNode node : List.of(first, second)) ApiNode.await("both coordinators Up", () -> upMembers(node), up -> up == 2);
  }

  @AfterAll
  static void stopCoordinators() throws Exception {
    if (second != null) second.close();
    if (first != null) first.close();
  }

  private static long upMembers(ApiNode node) {
    return StreamSupport.stream(Cluster.get(node.node().system()).state().getMembers().spliterator(), false)
        .filter(member -> member.status() == MemberStatus.up())
        .count();
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
    JsonNode weights = first.get("/weights?current_block=10000").expect(200).body();
    Map<Integer, JsonNode> rows = new LinkedHashMap<>();
    weights.path("uids").forEach(row -> rows.put(row.path("uid").asInt(), row));
    assertFalse(rows.get(2).path("invalid").asBoolean(), weights::toString);
    assertTrue(rows.get(1).path("reason").asText().startsWith("evaluation failed"), weights::toString);
  }
}
