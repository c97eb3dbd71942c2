package io.sn11.cluster.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ScoringFingerprintTest {

  /** Given in another order than the names': the id is of the sorted lines whatever the order given. */
  private static Map<String, String> components(String samples) {
    Map<String, String> components = new LinkedHashMap<>();
    components.put("evaluation.samples", samples);
    components.put("engine.version", "sn11-engine/0.1.0");
    components.put("backend", "cpu");
    return components;
  }

  @Test
  void theIdIsTheDigestOfTheSortedNameValueLines() {
    // printf 'backend=cpu\nengine.version=sn11-engine/0.1.0\nevaluation.samples=16\n' | sha256sum | cut -c1-16
    ScoringFingerprint fingerprint = ScoringFingerprint.of(components("16"));
    assertEquals("sf-900395264b78b690", fingerprint.id());
    assertEquals(java.util.List.of("backend", "engine.version", "evaluation.samples"), java.util.List.copyOf(fingerprint.components().keySet()));
    assertTrue(ScoringFingerprint.isId(fingerprint.id()));
  }

  @Test
  void oneSettingChangedIsAnotherId() {
    // printf 'backend=cpu\nengine.version=sn11-engine/0.1.0\nevaluation.samples=4\n' | sha256sum | cut -c1-16
    assertEquals("sf-1a97c8d666f9c103", ScoringFingerprint.of(components("4")).id());
    assertNotEquals(ScoringFingerprint.of(components("16")).id(), ScoringFingerprint.of(components("4")).id());
  }

  @Test
  void componentsThatCouldReadAsAnotherSetAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> ScoringFingerprint.of(Map.of("a=b", "c")));
    assertThrows(IllegalArgumentException.class, () -> ScoringFingerprint.of(Map.of("a", "b\nc=d")));
  }

  @Test
  void idsHaveOneShape() {
    assertFalse(ScoringFingerprint.isId("sf-900395264B78B690"));
    assertFalse(ScoringFingerprint.isId("sf-9003952"));
    assertFalse(ScoringFingerprint.isId(null));
  }

  @Test
  void theScoreShapingSettingsAreThoseOfOneModelsScore() {
    ScoringSettings defaults = ScoringSettings.defaults();
    Map<String, String> shaping = defaults.scoreShaping();
    assertEquals("judge", shaping.get("total-score-rule"));
    assertEquals(11, shaping.size(), shaping::toString);
    assertFalse(shaping.containsKey("softmax-temperature"), "applied to all models alike, by the coordinator");
  }
}
