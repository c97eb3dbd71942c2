package io.sn11.coordinator.http;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigInteger;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Reads and checks request fields, from a JSON body or a query string, so every route refuses bad
 * input the same way: a 400 naming the field. Values are bounded before they reach any entity.
 */
final class RequestFields {
  private static final Pattern REPO_PART = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,95}");
  private static final Pattern REVISION = Pattern.compile("[A-Za-z0-9._/-]{1,128}");
  private static final Pattern COMPETITION = Pattern.compile("[A-Za-z0-9._-]{1,64}");
  // SS58 addresses are base58: no 0, O, I or l.
  private static final BigInteger MAX_U64 = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);
  /** Blocks and uids arrive as JSON numbers; beyond 2^53 a JavaScript client would have lost digits anyway. */
  static final long MAX_BLOCK = (1L << 53) - 1;

  /** Fields that the subnet's own clients send along: known, accepted and ignored. */
  private static final java.util.Set<String> SUBNET_CLIENT_FIELDS = java.util.Set.of("admin_key", "tokenizer");

  private final Map<String, String> values;
  /** The fields a handler has looked at, so that anything else can be refused as unknown. */
  private final java.util.Set<String> read = new java.util.HashSet<>();

  private RequestFields(Map<String, String> values) {
    this.values = values;
  }

  /**
   * Refuses a body that holds a field no handler step has read, other than {@code alsoKnown} (fields read
   * straight from the JSON) and the subnet clients' own fields. Called once the handler has read its fields
   * and before it changes anything.
   */
  void rejectUnknown(String... alsoKnown) {
    java.util.Set<String> known = new java.util.HashSet<>(read);
    known.addAll(SUBNET_CLIENT_FIELDS);
    known.addAll(java.util.List.of(alsoKnown));
    values.keySet().stream()
        .sorted()
        .filter(field -> !known.contains(field))
        .findFirst()
        .ifPresent(field -> {
          throw ApiException.badField(field, "unknown field " + field);
        });
  }

  static RequestFields ofQuery(Map<String, String> query) {
    return new RequestFields(query);
  }

  /** Flattens a JSON object's scalar fields to text; a nested value where a scalar belongs is refused. */
  static RequestFields ofJson(JsonNode body) {
    if (body == null || !body.isObject()) throw ApiException.badField(null, "the request body must be a JSON object");
    Map<String, String> values = new java.util.HashMap<>();
    body.fields()
        .forEachRemaining(
            field -> {
              JsonNode value = field.getValue();
              if (value.isNull()) return;
              if (value.isContainerNode()) values.put(field.getKey(), "\u0000container");
              else values.put(field.getKey(), value.asText());
            });
    return new RequestFields(values);
  }

  String required(String field) {
    read.add(field);
    String value = values.get(field);
    if (value == null || value.isEmpty()) throw ApiException.badField(field, field + " is required");
    if (value.startsWith("\u0000")) throw ApiException.badField(field, field + " must be a string or a number, not an object or array");
    return value;
  }

  String optional(String field) {
    read.add(field);
    String value = values.get(field);
    if (value == null || value.isEmpty()) return null;
    if (value.startsWith("\u0000")) throw ApiException.badField(field, field + " must be a string or a number, not an object or array");
    return value;
  }

  String repoPart(String field) {
    String value = required(field);
    if (!REPO_PART.matcher(value).matches() || value.contains("..") || value.contains("--") || value.endsWith(".")) {
      throw ApiException.badField(
          field, field + " must be 1-96 letters, digits, '.', '_' or '-', start with a letter or digit, without '..' or '--'");
    }
    return value;
  }

  String hotkey(String field) {
    return ss58(field, required(field));
  }

  /** An SS58 address when present and not empty (a coldkey, say); null otherwise. */
  String optionalSs58(String field) {
    String value = optional(field);
    return value == null ? null : ss58(field, value);
  }

  private static String ss58(String field, String value) {
    if (!Ss58Address.isValid(value)) throw ApiException.badField(field, field + " must be an SS58 address (base58 of a 32-byte key with a valid checksum)");
    return value;
  }

  /** A model hash: an unsigned 64-bit integer in decimal, returned in canonical form. */
  String modelHash(String field) {
    String value = required(field);
    if (!value.matches("[0-9]{1,20}") || new BigInteger(value).compareTo(MAX_U64) > 0) {
      throw ApiException.badField(field, field + " must be an unsigned 64-bit integer in decimal");
    }
    return new BigInteger(value).toString();
  }

  String oneOf(String field, java.util.List<String> allowed) {
    String value = required(field);
    if (!allowed.contains(value)) throw ApiException.badField(field, field + " must be one of " + String.join(", ", allowed));
    return value;
  }

  String optionalMatching(String field, Pattern pattern, String description) {
    String value = optional(field);
    return value == null ? null : matched(field, value, pattern, description);
  }

  String matching(String field, Pattern pattern, String description) {
    return matched(field, required(field), pattern, description);
  }

  private static String matched(String field, String value, Pattern pattern, String description) {
    if (!pattern.matcher(value).matches() || value.contains("..")) throw ApiException.badField(field, field + " must be " + description);
    return value;
  }

  /** What a scoring fingerprint may look like: letters, digits and {@code . _ : + -}, at most 128. */
  private static final Pattern FINGERPRINT = Pattern.compile("[A-Za-z0-9._:+-]{1,128}");

  /** A scoring fingerprint (or {@code all}, which no node reports). */
  String fingerprint(String field) {
    return matching(field, FINGERPRINT, "a scoring fingerprint: 1-128 letters, digits, '.', '_', ':', '+' or '-'");
  }

  String optionalFingerprint(String field) {
    return optionalMatching(field, FINGERPRINT, "a scoring fingerprint: 1-128 letters, digits, '.', '_', ':', '+' or '-'");
  }

  String revision(String field) {
    return optionalMatching(field, REVISION, "1-128 letters, digits, '.', '_', '/' or '-'");
  }

  String competitionId(String field) {
    return optionalMatching(field, COMPETITION, "1-64 letters, digits, '.', '_' or '-'");
  }

  long longInRange(String field, long min, long max) {
    return parseLong(field, required(field), min, max);
  }

  Long optionalLongInRange(String field, long min, long max) {
    String value = optional(field);
    return value == null ? null : parseLong(field, value, min, max);
  }

  Double optionalFraction(String field) {
    String value = optional(field);
    if (value == null) return null;
    try {
      double parsed = Double.parseDouble(value);
      if (parsed >= 0 && parsed <= 1) return parsed;
    } catch (NumberFormatException ignored) {
      // reported below
    }
    throw ApiException.badField(field, field + " must be a number in [0, 1]");
  }

  private static long parseLong(String field, String value, long min, long max) {
    try {
      long parsed = Long.parseLong(value);
      if (parsed >= min && parsed <= max) return parsed;
    } catch (NumberFormatException ignored) {
      // reported below
    }
    throw ApiException.badField(field, field + " must be an integer in " + min + ".." + max);
  }
}
