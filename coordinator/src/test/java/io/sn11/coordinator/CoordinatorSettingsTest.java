package io.sn11.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Admin tokens from the configuration, the environment's variable and token files, all valid at once; connection caps. */
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
  void aMissingTokenFileIsAConfigurationErrorNamingIt() {
    Path missing = dir.resolve("nope");
    IllegalArgumentException error =
        assertThrows(IllegalArgumentException.class, () -> settings(Map.of("sn11.coordinator.admin-token-files", List.of(missing.toString()))));
    assertTrue(error.getMessage().contains(missing.toString()), error.getMessage());
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
}
