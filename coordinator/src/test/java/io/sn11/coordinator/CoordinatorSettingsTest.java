package io.sn11.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Admin tokens from the configuration, the environment's variable and token files, all valid at once;
 * the weights' burn, chain reference and fold schedule, refused at start-up when out of range; database
 * URLs whose commits would be acknowledged before they are written are refused; connection caps.
 */
class CoordinatorSettingsTest {
  @TempDir Path dir;

  private static CoordinatorSettings settings(Map<String, Object> values) {
    return CoordinatorSettings.fromConfig(ConfigFactory.parseMap(values).withFallback(ConfigFactory.defaultReference()).resolve());
  }

  @Test
  void tokenFilesAddOneTokenPerLineForRotation() throws Exception {
    Path file = Files.writeString(dir.resolve("tokens"), "# rotated on 2026-11-22\nnew-token-1234567890\n\n  old-token-0987654321  \n");
    CoordinatorSettings s = settings(Map.of("sn11.coordinator.admin-tokens", List.of("configured-token"), "sn11.coordinator.admin-token-files", List.of(file.toString())));
    assertEquals(List.of("configured-token", "new-token-1234567890", "old-token-0987654321"), s.adminTokens());
  }

  @Test
  void theWeightsHaveNoBurnNoReferenceAndNoScheduleByDefault() {
    CoordinatorSettings.WeightsSettings weights = settings(Map.of()).weights();
    assertNull(weights.burn());
    assertNull(weights.chainReference());
    assertEquals(Duration.ofSeconds(12), weights.blockTime());
    assertEquals(7_200, weights.maxBlocksAhead());
    assertEquals(Duration.ZERO, weights.foldInterval());
  }

  @Test
  void aBurnAChainReferenceAndAScheduleAreRead() {
    String w = "sn11.coordinator.weights.";
    CoordinatorSettings.WeightsSettings weights =
        settings(
                Map.of(
                    w + "burn-uid", 7, w + "burn-share", 0.25, w + "chain-reference-block", 4_200_000,
                    w + "chain-reference-time", "2024-10-24T12:00:00Z", w + "fold-interval", "20m"))
            .weights();
    assertEquals(new CoordinatorSettings.Burn(7, 0.25), weights.burn());
    assertEquals(new CoordinatorSettings.ChainReference(4_200_000, Instant.parse("2024-10-24T12:00:00Z")), weights.chainReference());
    assertEquals(Duration.ofMinutes(20), weights.foldInterval());
  }

  @Test
  void badWeightsSettingsStopTheNodeNamingTheKey() {
    String w = "sn11.coordinator.weights.";
    assertRefused(w + "burn-uid", Map.of(w + "burn-uid", 65_536, w + "burn-share", 0.5));
    assertRefused(w + "burn-uid", Map.of(w + "burn-uid", -1, w + "burn-share", 0.5));
    assertRefused(w + "burn-share", Map.of(w + "burn-uid", 7, w + "burn-share", 1.5));
    assertRefused(w + "burn-share", Map.of(w + "burn-uid", 7));
    assertRefused(w + "burn-uid", Map.of(w + "burn-share", 0.5));
    assertRefused(w + "chain-reference-time", Map.of(w + "chain-reference-block", 5_000));
    assertRefused(w + "chain-reference-block", Map.of(w + "chain-reference-time", "2025-01-01T00:00:00Z"));
    assertRefused(w + "chain-reference-time", Map.of(w + "chain-reference-block", 5_000, w + "chain-reference-time", "yesterday"));
    assertRefused(w + "chain-reference-block", Map.of(w + "chain-reference-block", -5, w + "chain-reference-time", "2025-01-01T00:00:00Z"));
    assertRefused(w + "block-time", Map.of(w + "block-time", "0s"));
    assertRefused(w + "max-blocks-ahead", Map.of(w + "max-blocks-ahead", -1));
    assertRefused(w + "fold-interval", Map.of(w + "fold-interval", "-1s"));
  }

  private static void assertRefused(String key, Map<String, Object> values) {
    IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> settings(values), values::toString);
    assertTrue(error.getMessage().contains(key), error.getMessage());
  }

  @Test
  void theValidatorsReportsHaveTheirOwnRateLimitsAndBounds() {
    CoordinatorSettings s = settings(Map.of());
    for (String route : List.of("telemetry_report", "event_report")) {
      assertEquals(new CoordinatorSettings.RateLimit(30, java.time.Duration.ofMinutes(1)), s.rateLimits().forRoute(route), route);
    }
    assertEquals(new CoordinatorSettings.ValidatorReports(32_768, 10_000, 1_000), s.validatorReports());
    IllegalArgumentException tooBig =
        assertThrows(IllegalArgumentException.class, () -> settings(Map.of("sn11.coordinator.validator-reports.max-body-bytes", 2_000_000)));
    assertTrue(tooBig.getMessage().contains("validator-reports.max-body-bytes"), tooBig.getMessage());
  }

  @Test
  void aMissingTokenFileIsAConfigurationErrorNamingIt() {
    Path missing = dir.resolve("nope");
    IllegalArgumentException error =
        assertThrows(IllegalArgumentException.class, () -> settings(Map.of("sn11.coordinator.admin-token-files", List.of(missing.toString()))));
    assertTrue(error.getMessage().contains(missing.toString()), error.getMessage());
  }

  @Test
  void theDefaultH2DatabaseWritesEveryCommitBeforeAcknowledgingIt() {
    CoordinatorSettings.Database database = settings(Map.of()).database();
    assertEquals(CoordinatorSettings.Dialect.H2, database.dialect());
    assertTrue(database.url().endsWith(";WRITE_DELAY=0"), database.url());
  }

  @Test
  void anH2UrlWithoutWriteDelayZeroIsAConfigurationErrorNamingTheSetting() {
    String h2 = "jdbc:h2:file:" + dir.resolve("sn11") + ";DATABASE_TO_UPPER=false";
    for (String url : List.of(h2, h2 + ";WRITE_DELAY=500", h2 + ";write_delay=100")) {
      IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> settings(Map.of("sn11.database.url", url)), url);
      assertTrue(error.getMessage().startsWith("sn11.database.url") && error.getMessage().contains("WRITE_DELAY=0"), error.getMessage());
    }
    assertEquals(CoordinatorSettings.Dialect.H2, settings(Map.of("sn11.database.url", h2 + ";write_delay=0")).database().dialect());
    assertEquals(CoordinatorSettings.Dialect.POSTGRES, settings(Map.of("sn11.database.url", "jdbc:postgresql://127.0.0.1:5432/sn11")).database().dialect());
  }

  @Test
  void connectionCapsDefaultToRoomForALoadTestFromOneAddressAndMustFitTogether() {
    CoordinatorSettings.Connections defaults = settings(Map.of()).connections();
    assertEquals(new CoordinatorSettings.Connections(1024, 64, java.time.Duration.ofSeconds(10)), defaults);
    IllegalArgumentException error =
        assertThrows(
            IllegalArgumentException.class,
            () -> settings(Map.of("sn11.coordinator.http.max-connections", 8, "sn11.coordinator.http.max-connections-per-address", 9)));
    assertTrue(error.getMessage().contains("max-connections-per-address must be in 1..max-connections"), error.getMessage());
    error = assertThrows(IllegalArgumentException.class, () -> settings(Map.of("sn11.coordinator.http.header-read-timeout", "0s")));
    assertTrue(error.getMessage().contains("header-read-timeout must be > 0"), error.getMessage());
  }

  @Test
  void followingTheLocalGpuNodeIsOffByDefaultOnInServesFileAndReadAsOnOrOff() {
    assertEquals(false, settings(Map.of()).followLocalGpuNode());
    assertEquals(true, settings(Map.of("sn11.coordinator.scoring.follow-local-gpu-node", "on")).followLocalGpuNode());
    assertEquals(false, settings(Map.of("sn11.coordinator.scoring.follow-local-gpu-node", "off")).followLocalGpuNode());
    Map<String, Object> data = Map.of("sn11.data-dir", dir.toString());
    assertEquals(true, CoordinatorSettings.fromConfig(io.sn11.cluster.node.NodeConfig.load(data, null, "single-node.conf")).followLocalGpuNode(), "sn11 serve");
    assertEquals(false, CoordinatorSettings.fromConfig(io.sn11.cluster.node.NodeConfig.load(data, null, "coordinator.conf")).followLocalGpuNode(), "a cluster's coordinator");

    IllegalArgumentException error =
        assertThrows(IllegalArgumentException.class, () -> settings(Map.of("sn11.coordinator.scoring.follow-local-gpu-node", "sometimes")));
    assertEquals("sn11.coordinator.scoring.follow-local-gpu-node must be on or off, was sometimes", error.getMessage());
  }
}
