package io.sn11.cluster.scoring;

import io.sn11.cluster.CborSerializable;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.HexFormat;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Everything that shapes a score on a gpu-node (engine version, backend, dataset, evaluation and scoring settings, the
 * judge), as named components, and an id derived from them: two nodes with the same id score a model alike, so scores
 * of different nodes can be compared. The id is {@code sf-} and the first 16 hex digits of the SHA-256 of the
 * components' canonical text: one {@code name=value\n} line per component, in the names' order (UTF-8).
 *
 * @param id as the node that computed it says (a message from another version is taken at its word)
 * @param components by name, sorted
 */
public record ScoringFingerprint(String id, SortedMap<String, String> components) implements CborSerializable {
  private static final String ID_PREFIX = "sf-";
  private static final int ID_HEX_DIGITS = 16;

  public ScoringFingerprint {
    if (id == null || id.isBlank()) throw new IllegalArgumentException("a scoring fingerprint needs an id");
    components = Collections.unmodifiableSortedMap(new TreeMap<>(components));
  }

  /** The fingerprint of {@code components}, its id computed from them. */
  public static ScoringFingerprint of(Map<String, String> components) {
    TreeMap<String, String> sorted = new TreeMap<>(components);
    sorted.forEach(ScoringFingerprint::requireCanonical);
    return new ScoringFingerprint(idOf(canonicalText(sorted)), sorted);
  }

  /** Whether {@code text} has the shape of an id ({@code sf-} and 16 lower-case hex digits). */
  public static boolean isId(String text) {
    return text != null && text.matches(ID_PREFIX + "[0-9a-f]{" + ID_HEX_DIGITS + "}");
  }

  /** The lines the id is the digest of. */
  static String canonicalText(SortedMap<String, String> components) {
    StringBuilder text = new StringBuilder();
    components.forEach((name, value) -> text.append(name).append('=').append(value).append('\n'));
    return text.toString();
  }

  private static String idOf(String canonicalText) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(canonicalText.getBytes(StandardCharsets.UTF_8));
      return ID_PREFIX + HexFormat.of().formatHex(digest).substring(0, ID_HEX_DIGITS);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A name with '=' or a line break, or a value with a line break, would let two different sets read as one text. */
  private static void requireCanonical(String name, String value) {
    if (name.isEmpty() || name.contains("=") || name.contains("\n")) throw new IllegalArgumentException("bad fingerprint component name '" + name + "'");
    if (value == null || value.contains("\n")) throw new IllegalArgumentException("fingerprint component " + name + " needs a one-line value");
  }
}
