package io.sn11.coordinator.dispatch;

import io.sn11.cluster.scoring.ScoringFingerprint;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeSet;

/**
 * The warnings about gpu-nodes that score under another fingerprint than the required one, so that an operator hears
 * why a node stays idle: one per node and fingerprint while the node stays in the cluster, so a node that leaves and
 * comes back mismatched is warned about again.
 */
final class MismatchWarnings {
  /** Per node (host:port), the fingerprint ids it was warned about. */
  private final Map<String, Set<String>> warned = new HashMap<>();

  /** The gpu-nodes listed now: the others left and are forgotten. */
  void retainNodes(Set<String> listed) {
    warned.keySet().retainAll(listed);
  }

  /**
   * The warning for {@code node} described with {@code fingerprint} (null: it announces none), or empty when it
   * scores under the required one or was warned about with this fingerprint already.
   */
  Optional<String> check(String node, ScoringFingerprint fingerprint, ScoringVersion.Requirement required) {
    String id = fingerprint == null ? null : fingerprint.id();
    if (required.id().equals(id) || !warned.computeIfAbsent(node, n -> new HashSet<>()).add(String.valueOf(id))) return Optional.empty();
    return Optional.of(
        "gpu-node " + node + " scores under fingerprint " + id + " but " + required.id() + " is required: it gets no work; "
            + differences(fingerprint, required));
  }

  private static String differences(ScoringFingerprint fingerprint, ScoringVersion.Requirement required) {
    if (fingerprint == null) return "it announces no fingerprint (an older version)";
    if (required.components() == null) {
      return "the required one was configured by id, so its components are not known here (the node's: " + fingerprint.components() + ")";
    }
    SortedMap<String, String> ours = fingerprint.components();
    SortedMap<String, String> theirs = required.components();
    Set<String> names = new TreeSet<>(ours.keySet());
    names.addAll(theirs.keySet());
    List<String> differing = new ArrayList<>();
    for (String name : names) {
      String nodeValue = ours.get(name);
      String requiredValue = theirs.get(name);
      if (nodeValue == null ? requiredValue != null : !nodeValue.equals(requiredValue)) {
        differing.add(name + ": " + shown(nodeValue) + " vs required " + shown(requiredValue));
      }
    }
    return "differs in " + String.join(", ", differing);
  }

  private static String shown(String value) {
    return value == null ? "(none)" : value;
  }
}
