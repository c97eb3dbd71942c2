package io.sn11.cluster.testing;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Key stores for TLS tests, made by the JDK's own keytool: a self-signed EC key for 127.0.0.1. */
public final class TestKeyStores {
  private TestKeyStores() {}

  /** Writes a PKCS12 key store at {@code file} holding one key and its self-signed certificate. */
  public static Path selfSigned(Path file, String password) throws Exception {
    Process keytool =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "keytool").toString(), "-genkeypair", "-alias", "sn11", "-keyalg", "EC",
                "-groupname", "secp256r1", "-dname", "CN=127.0.0.1", "-ext", "SAN=ip:127.0.0.1", "-validity", "2", "-storetype", "PKCS12",
                "-keystore", file.toString(), "-storepass", password, "-keypass", password)
            .redirectErrorStream(true)
            .start();
    String output = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (keytool.waitFor() != 0) throw new IllegalStateException("keytool failed: " + output);
    return file;
  }
}
