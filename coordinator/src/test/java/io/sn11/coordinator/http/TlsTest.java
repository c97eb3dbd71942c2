package io.sn11.coordinator.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sn11.cluster.testing.TestKeyStores;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The API over HTTPS with a key store made for the test; plain HTTP is then refused. */
class TlsTest {
  private static final String PASSWORD = "test-store-password";
  @TempDir static Path dir;
  private static Path keyStore;
  private static ApiNode api;

  @BeforeAll
  static void start() throws Exception {
    keyStore = TestKeyStores.selfSigned(dir.resolve("server.p12"), PASSWORD);
    api =
        ApiNode.start(
            dir.resolve("data"),
            Map.of(
                "sn11.coordinator.http.tls.enabled", true,
                "sn11.coordinator.http.tls.key-store", keyStore.toString(),
                "sn11.coordinator.http.tls.key-store-password", PASSWORD,
                // Time for a cold JVM's first handshake, which the header deadline includes.
                "sn11.coordinator.http.header-read-timeout", "5s"),
            List.of());
  }

  @AfterAll
  static void stop() throws Exception {
    if (api != null) api.close();
  }

  @Test
  void theApiAnswersOverHttpsToAClientTrustingTheCertificate() throws Exception {
    KeyStore trusted = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(keyStore)) {
      trusted.load(in, PASSWORD.toCharArray());
    }
    TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(trusted);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, trust.getTrustManagers(), null);
    HttpClient https = HttpClient.newBuilder().sslContext(context).build();
    URI hc = URI.create("https://127.0.0.1:" + api.base().getPort() + "/hc");

    HttpResponse<String> answer = https.send(HttpRequest.newBuilder(hc).GET().build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, answer.statusCode(), answer.body());
    assertEquals("{\"g\":true}", answer.body());

    // Plain HTTP on the same port gets no answer a client could mistake for the API's.
    assertThrows(java.io.IOException.class, () -> api.client().send(HttpRequest.newBuilder(api.base().resolve("/hc")).GET().build(), HttpResponse.BodyHandlers.ofString()));
  }

  @Test
  void aConnectionThatNeverStartsTheHandshakeIsClosedAfterTheHeaderDeadline() throws Exception {
    try (RawConnection idle = RawConnection.open(api.base(), "127.0.0.31")) {
      assertTrue(idle.closedByServerWithin(Duration.ofSeconds(30)), "an idle connection to the HTTPS port stayed open");
    }
  }
}
