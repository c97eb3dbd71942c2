package io.sn11.coordinator.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sn11.coordinator.CoordinatorSettings;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

/** The chain's current block as a node knows it, and the highest block it accepts, worked by hand. */
class ChainHeightTest {
  private static final Instant REFERENCE_TIME = Instant.parse("2025-01-01T00:00:00Z");

  private static ChainHeight height(CoordinatorSettings.ChainReference reference, long maxBlocksAhead, Instant now) {
    return new ChainHeight(
        new CoordinatorSettings.WeightsSettings(null, reference, Duration.ofSeconds(12), maxBlocksAhead, Duration.ZERO),
        Clock.fixed(now, ZoneOffset.UTC));
  }

  @Test
  void withoutAReferenceTheHighestBlockSeenIsTheChainsBlock() {
    ChainHeight height = height(null, 7_200, REFERENCE_TIME);
    assertEquals(200, height.current(200));
    assertEquals(7_400, height.highestAllowed(200));
    // A fresh node has seen nothing: only the allowance.
    assertEquals(7_200, height.highestAllowed(0));
  }

  @Test
  void aReferenceGivesOneBlockPerBlockTimeUnlessTheRegistryHasSeenMore() {
    // 125 s after block 1000: 125 / 12 = 10 whole blocks -> 1010.
    ChainHeight height = height(new CoordinatorSettings.ChainReference(1_000, REFERENCE_TIME), 600, REFERENCE_TIME.plusSeconds(125));
    assertEquals(1_010, height.current(0));
    assertEquals(1_610, height.highestAllowed(0));
    assertEquals(2_000, height.current(2_000));
    assertEquals(2_600, height.highestAllowed(2_000));
    // A day later: 7200 blocks more.
    assertEquals(8_200, height(new CoordinatorSettings.ChainReference(1_000, REFERENCE_TIME), 600, REFERENCE_TIME.plus(Duration.ofDays(1))).current(0));
  }

  @Test
  void theHighestAllowedBlockNeverWrapsAround() {
    ChainHeight height = height(null, Long.MAX_VALUE, REFERENCE_TIME);
    assertEquals(Long.MAX_VALUE, height.highestAllowed(5));
  }
}
