package io.sn11.coordinator.http;

import static io.sn11.coordinator.http.ApiNode.hotkey;
import static io.sn11.coordinator.http.ApiNode.model;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sn11.coordinator.http.ApiNode.Model;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node that folds on its own schedule, with a configured burn and a chain reference: nobody calls the
 * fold route, yet the average moves on, at the chain's block as the node estimates it (block 5000 at
 * the node's start, one block per 500 ms here), and every step gives the burn uid its configured share.
 */
class WeightsScheduleTest {
  private static final double EPS = 1e-12;
  private static final long REFERENCE_BLOCK = 5_000;

  @TempDir static Path dataDir;
  static ApiNode api;

  // uid 41 scores 0.7 at block 10; uid 42 scores 0.3 at block 20.
  static final Model WINNER = model("schedule", "winner", hotkey("schedule-winner"), 10);
  static final Model LOSER = model("schedule", "loser", hotkey("schedule-loser"), 20);

  @BeforeAll
  static void startNode() throws Exception {
    api =
        ApiNode.start(
            dataDir,
            Map.of(
                "sn11.coordinator.weights.burn-uid", 7,
                "sn11.coordinator.weights.burn-share", 0.5,
                "sn11.coordinator.weights.chain-reference-block", REFERENCE_BLOCK,
                "sn11.coordinator.weights.chain-reference-time", Instant.now().toString(),
                "sn11.coordinator.weights.block-time", "500ms",
                "sn11.coordinator.weights.fold-interval", "200ms"),
            List.of());
  }

  @AfterAll
  static void stopNode() throws Exception {
    if (api != null) api.close();
  }

  @Test
  void theScheduleFoldsTheEstimatedBlockWithTheConfiguredBurn() throws Exception {
    api.importJudgeScore(WINNER, 0.7).expect(200);
    api.importJudgeScore(LOSER, 0.3).expect(200);
    api.awaitReadSide(41, WINNER, "COMPLETED");
    api.awaitReadSide(42, LOSER, "COMPLETED");

    JsonNode steps =
        ApiNode.await(
            "a scheduled fold over both miners",
            () -> api.get("/weights/history?limit=500").expect(200).body().get("steps"),
            history -> history.size() > 0 && history.get(history.size() - 1).at("/step/42").isNumber());
    JsonNode last = steps.get(steps.size() - 1);
    // uid 41 (0.7 @10) beats uid 42 (0.3 @20, x0.97): win rates 1 and 0, softmax 1 / (1 + e^(-40/3)) and the
    // rest; the burn takes half and the miners share the other half.
    double winner = 1 / (1 + Math.exp(-40.0 / 3));
    assertEquals(0.5, last.at("/step/7").asDouble(), EPS, last::toString);
    assertEquals(0.5 * winner, last.at("/step/41").asDouble(), EPS, last::toString);
    assertEquals(0.5 * (1 - winner), last.at("/step/42").asDouble(), EPS, last::toString);
    long previous = REFERENCE_BLOCK - 1;
    for (JsonNode step : steps) {
      assertTrue(step.get("block").asLong() > previous, "each fold at a later block than the one before: " + steps);
      // The node ran a while with nobody registered: the schedule folded nothing then (uid 41 came first).
      assertTrue(step.at("/step/41").isNumber(), "no fold of an empty registry: " + steps);
      previous = step.get("block").asLong();
    }
    assertTrue(api.get("/weights").expect(200).body().get("last_folded_block").asLong() >= previous);

    // Anyone may preview a later block: the configured burn is in it too.
    JsonNode preview = api.get("/weights?current_block=" + (previous + 1_000)).expect(200).body();
    JsonNode burn = preview.get("uids").findParents("uid").stream().filter(row -> row.get("uid").asInt() == 7).findFirst().orElseThrow();
    assertEquals("burn uid, not in the registry", burn.get("reason").asText());
    assertEquals(0.5, burn.get("step_weight").asDouble(), EPS);
  }
}
