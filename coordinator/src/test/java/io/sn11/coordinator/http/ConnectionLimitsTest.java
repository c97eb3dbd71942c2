package io.sn11.coordinator.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Connection exhaustion on loopback, scaled down: one client address holds at most its share of the API's
 * connections and the server at most its maximum; connections beyond either are closed at once while the
 * API (from other addresses) and the management port keep answering. 127.0.0.x are all loopback on Linux,
 * so each address stands for another client.
 */
class ConnectionLimitsTest {
  static final int PER_ADDRESS = 3;
  static final int MAX = 8;
  @TempDir static Path dir;
  static ApiNode api;
  static final List<RawConnection> open = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    api =
        ApiNode.start(
            dir,
            // The header deadline far away: a connection closed here was closed for a cap.
            Map.of(
                "sn11.coordinator.http.max-connections-per-address", PER_ADDRESS,
                "sn11.coordinator.http.max-connections", MAX,
                "sn11.coordinator.http.header-read-timeout", "10m"),
            List.of());
  }

  @AfterAll
  static void stop() throws Exception {
    for (RawConnection connection : open) connection.close();
    if (api != null) api.close();
  }

  @Test
  void oneAddressHoldsAtMostItsShareAndTheServerAtMostItsMaximumWhileOthersAreServed() throws Exception {
    // Idle connections (no request sent) up to one address's share are kept open...
    List<RawConnection> idle = new ArrayList<>();
    for (int i = 0; i < PER_ADDRESS; i++) idle.add(connect("127.0.0.11"));
    // ...and those beyond it are closed by the server at once.
    for (int i = 0; i < 2; i++) {
      try (RawConnection extra = RawConnection.open(api.base(), "127.0.0.11")) {
        assertTrue(extra.closedByServerWithin(Duration.ofSeconds(30)), "a connection beyond the address's share stayed open");
      }
    }
    // Another address is served, and so is the management port.
    RawConnection other = connect("127.0.0.12");
    assertEquals(200, other.get("/hc").status());
    assertManagementAnswers();
    // The idle ones were admitted, not just left waiting: each is served once it asks.
    for (RawConnection connection : idle) assertEquals(200, connection.get("/hc").status());

    // Fill the server up to its maximum from further addresses (each connection shown admitted by an answer).
    List<RawConnection> filling = new ArrayList<>();
    while (PER_ADDRESS + 1 + filling.size() < MAX) {
      RawConnection connection = connect(filling.size() < PER_ADDRESS ? "127.0.0.13" : "127.0.0.14");
      assertEquals(200, connection.get("/hc").status());
      filling.add(connection);
    }
    try (RawConnection beyond = RawConnection.open(api.base(), "127.0.0.15")) {
      assertTrue(beyond.closedByServerWithin(Duration.ofSeconds(30)), "a connection beyond max-connections stayed open");
    }
    assertManagementAnswers();

    // Closed connections give their places back.
    for (RawConnection connection : filling) connection.close();
    ApiNode.await("a connection from 127.0.0.15 admitted once others closed", () -> hcStatusFrom("127.0.0.15"), status -> status == 200);
  }

  /** The status of GET /hc on a new connection from {@code from}; 0 when the server closed it unanswered. */
  private static int hcStatusFrom(String from) {
    try (RawConnection connection = RawConnection.open(api.base(), from)) {
      RawConnection.Response answer = connection.send("GET /hc HTTP/1.1\r\nHost: localhost\r\n\r\n").responseIfAny();
      return answer == null ? 0 : answer.status();
    } catch (java.io.IOException closed) {
      return 0;
    }
  }

  private static RawConnection connect(String from) throws Exception {
    RawConnection connection = RawConnection.open(api.base(), from);
    open.add(connection);
    return connection;
  }

  private static void assertManagementAnswers() throws Exception {
    URI alive = URI.create(api.node().managementUri().toString()).resolve("/alive");
    HttpResponse<String> answer =
        HttpClient.newHttpClient().send(HttpRequest.newBuilder(alive).timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, answer.statusCode(), answer.body());
  }
}
