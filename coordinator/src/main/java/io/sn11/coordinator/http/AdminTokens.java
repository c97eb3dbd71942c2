package io.sn11.coordinator.http;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;

/**
 * The admin tokens, kept only as SHA-256 digests. Candidates are compared digest to digest with
 * {@link MessageDigest#isEqual}, in constant time and without revealing a token's length.
 */
final class AdminTokens {
  private final List<byte[]> digests;

  AdminTokens(List<String> tokens) {
    this.digests = tokens.stream().map(AdminTokens::digest).toList();
  }

  boolean accepts(String candidate) {
    return candidate != null && !candidate.isEmpty() && known(digest(candidate));
  }

  private boolean known(byte[] digest) {
    boolean match = false;
    // Compare with every token so the time taken does not say which one matched.
    for (byte[] known : digests) match |= MessageDigest.isEqual(known, digest);
    return match;
  }

  /**
   * Who an accepted token is, for the audit: a short fingerprint of its digest, never the token. Empty when
   * the candidate is not an admin token.
   */
  java.util.Optional<String> fingerprint(String candidate) {
    if (candidate == null || candidate.isEmpty()) return java.util.Optional.empty();
    byte[] digest = digest(candidate);
    return known(digest) ? java.util.Optional.of("sha256:" + java.util.HexFormat.of().formatHex(digest, 0, 6)) : java.util.Optional.empty();
  }

  private static byte[] digest(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }
}
