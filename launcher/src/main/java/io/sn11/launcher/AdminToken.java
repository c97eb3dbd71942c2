package io.sn11.launcher;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;

/**
 * The admin token of a single-node installation: taken from SN11_ADMIN_TOKEN when set, otherwise kept
 * in {@code <data-dir>/admin-token} (created once, readable by its owner only) so that the clients on
 * the same machine find it without the token ever being printed or logged.
 */
final class AdminToken {
  static final String ENV = "SN11_ADMIN_TOKEN";
  static final String FILE_NAME = "admin-token";

  private AdminToken() {}

  static Path file(Path dataDir) {
    return dataDir.resolve(FILE_NAME);
  }

  /** The token the node should accept: the environment's, or the data folder's (created if missing). */
  static String forServer(Path dataDir) throws IOException {
    Optional<String> fromEnv = fromEnvironment();
    if (fromEnv.isPresent()) return fromEnv.get();
    Path file = file(dataDir);
    if (Files.isRegularFile(file)) return Files.readString(file, StandardCharsets.UTF_8).trim();
    Files.createDirectories(dataDir);
    String token = random();
    Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(file, token + "\n", StandardCharsets.UTF_8);
    return token;
  }

  /** A new token: 32 random bytes in hex. */
  static String random() {
    byte[] random = new byte[32];
    new SecureRandom().nextBytes(random);
    return HexFormat.of().formatHex(random);
  }

  /** The token a client should send: --token, then the environment, then the data folder's file. */
  static Optional<String> forClient(String option, Path dataDir) throws IOException {
    if (option != null && !option.isBlank()) return Optional.of(option);
    Optional<String> fromEnv = fromEnvironment();
    if (fromEnv.isPresent()) return fromEnv;
    Path file = file(dataDir);
    return Files.isRegularFile(file) ? Optional.of(Files.readString(file, StandardCharsets.UTF_8).trim()) : Optional.empty();
  }

  private static Optional<String> fromEnvironment() {
    String value = System.getenv(ENV);
    return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.trim());
  }
}
