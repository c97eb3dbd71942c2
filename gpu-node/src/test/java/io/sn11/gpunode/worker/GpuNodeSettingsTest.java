package io.sn11.gpunode.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.sn11.engine.model.ModelLimits;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The evaluation JVM's and the engine limits' settings: their defaults, and values refused with the key named. */
class GpuNodeSettingsTest {
  private static GpuNodeSettings read(Map<String, Object> settings) {
    Config config = ConfigFactory.parseMap(settings).withFallback(ConfigFactory.defaultReference()).resolve();
    return GpuNodeSettings.fromConfig(config);
  }

  @Test
  void defaultsLeaveRoomForAnEightBillionParameterModel() {
    GpuNodeSettings settings = read(Map.of());
    assertEquals(new GpuNodeSettings.ChildSettings(8L << 30, 2L << 30, List.of()), settings.evaluation().child());
    assertEquals(new ModelLimits(40_000_000_000L, 262_144, 16L << 30, 16L << 30), settings.limits());
  }

  @Test
  void unusableValuesAreRefusedNamingTheirKey() {
    assertRefused("sn11.gpu-node.evaluation.child.max-heap", "16m", "sn11.gpu-node.evaluation.child.max-heap must be at least 32m");
    assertRefused("sn11.gpu-node.evaluation.child.max-direct-memory", "0", "sn11.gpu-node.evaluation.child.max-direct-memory must be > 0");
    assertRefused("sn11.gpu-node.limits.max-kv-cache", "0", "sn11.gpu-node.limits: model limits must be positive");
    assertRefused("sn11.gpu-node.evaluation.dataset", "/no/such/dataset.jsonl", "sn11.gpu-node.evaluation.dataset /no/such/dataset.jsonl is not a readable file");
  }

  private static void assertRefused(String key, Object value, String message) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> read(Map.of(key, value)), key);
    assertTrue(e.getMessage().startsWith(message), e.getMessage());
  }
}
