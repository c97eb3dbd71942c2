package io.sn11.coordinator.dispatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sn11.cluster.scoring.ScoringFingerprint;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MismatchWarningsTest {
  private static final ScoringFingerprint REQUIRED =
      ScoringFingerprint.of(Map.of("backend", "cpu", "evaluation.samples", "4", "judge.model", "sn11-demo/judge"));
  private static final ScoringFingerprint OTHER =
      ScoringFingerprint.of(Map.of("backend", "cpu", "evaluation.samples", "16", "judge.kind", "api"));
  private static final ScoringVersion.Requirement ADOPTED =
      new ScoringVersion.Requirement(REQUIRED.id(), REQUIRED.components(), "10.0.0.1:25520", Instant.EPOCH);

  private final MismatchWarnings warnings = new MismatchWarnings();

  @Test
  void aMismatchedNodeIsNamedWithBothIdsAndEachDifferingComponent() {
    assertEquals(
        Optional.of(
            "gpu-node 10.0.0.2:25520 scores under fingerprint " + OTHER.id() + " but " + REQUIRED.id() + " is required: it gets no work;"
                + " differs in evaluation.samples: 16 vs required 4, judge.kind: api vs required (none), judge.model: (none) vs required sn11-demo/judge"),
        warnings.check("10.0.0.2:25520", OTHER, ADOPTED));
  }

  @Test
  void aMatchingNodeIsNoWarning() {
    assertEquals(Optional.empty(), warnings.check("10.0.0.1:25520", REQUIRED, ADOPTED));
  }

  @Test
  void eachNodeAndFingerprintIsWarnedAboutOnceWhileTheNodeStays() {
    assertTrue(warnings.check("10.0.0.2:25520", OTHER, ADOPTED).isPresent());
    assertEquals(Optional.empty(), warnings.check("10.0.0.2:25520", OTHER, ADOPTED), "the same node and fingerprint again");
    assertTrue(warnings.check("10.0.0.3:25520", OTHER, ADOPTED).isPresent(), "another node");
    ScoringFingerprint third = ScoringFingerprint.of(Map.of("evaluation.samples", "8"));
    assertTrue(warnings.check("10.0.0.2:25520", third, ADOPTED).isPresent(), "the same node with another fingerprint");

    warnings.retainNodes(Set.of("10.0.0.3:25520"));
    assertTrue(warnings.check("10.0.0.2:25520", OTHER, ADOPTED).isPresent(), "a node that left and came back");
    assertEquals(Optional.empty(), warnings.check("10.0.0.3:25520", OTHER, ADOPTED), "a node that stayed");
  }

  @Test
  void aConfiguredRequirementHasNoComponentsToCompareAndANodeWithoutFingerprintIsNamedSo() {
    ScoringVersion.Requirement configured = new ScoringVersion.Requirement(REQUIRED.id(), null, null, Instant.EPOCH);
    String warning = warnings.check("10.0.0.2:25520", OTHER, configured).orElseThrow();
    assertTrue(warning.contains("the required one was configured by id, so its components are not known here (the node's: " + OTHER.components() + ")"), warning);
    assertEquals(
        Optional.of("gpu-node 10.0.0.4:25520 scores under fingerprint null but " + REQUIRED.id() + " is required: it gets no work; it announces no fingerprint (an older version)"),
        warnings.check("10.0.0.4:25520", null, configured));
  }
}
