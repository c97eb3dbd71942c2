package io.sn11.coordinator.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The header-read deadline: from a connection's open, or the end of its last response, a client has
 * header-read-timeout to complete the next request's header. Idle connections and slow senders (a byte
 * now and then, which keeps an idle timeout from ever firing) are closed after it; a request in hand
 * (its header complete) stops it, however slowly its body comes.
 */
class HeaderReadTimeoutTest {
  static final Duration DEADLINE = Duration.ofSeconds(3);
  /** Far above the deadline and below Pekko's idle-timeout (60 s), which would close an idle connection anyway. */
  static final Duration CLOSED_WITHIN = Duration.ofSeconds(30);
  /** How often a slow sender sends its next byte. */
  static final long TRICKLE_MS = 250;
  @TempDir static Path dir;
  static ApiNode api;
  static final ScheduledExecutorService sender = Executors.newSingleThreadScheduledExecutor();

  @BeforeAll
  static void start() throws Exception {
    api = ApiNode.start(dir, Map.of("sn11.coordinator.http.header-read-timeout", DEADLINE.toMillis() + "ms"), List.of());
  }

  @AfterAll
  static void stop() throws Exception {
    sender.shutdownNow();
    if (api != null) api.close();
  }

  @Test
  void idleConnectionsAreClosedAfterTheDeadline() throws Exception {
    try (RawConnection first = RawConnection.open(api.base(), "127.0.0.21");
        RawConnection second = RawConnection.open(api.base(), "127.0.0.21")) {
      assertTrue(first.closedByServerWithin(CLOSED_WITHIN), "an idle connection stayed open");
      assertTrue(second.closedByServerWithin(CLOSED_WITHIN), "an idle connection stayed open");
    }
  }

  @Test
  void aHeaderSentAByteAtATimeIsCutOffAtTheDeadline() throws Exception {
    try (RawConnection slow = RawConnection.open(api.base(), "127.0.0.22")) {
      slow.send("GET /hc HTTP/1.1\r\nHost: localhost\r\nX-Slow: ");
      // A header value that never ends: never idle, and far from any header limit.
      AtomicInteger sent = trickle(slow, Stream.generate(() -> "s").iterator());
      assertTrue(slow.closedByServerWithin(CLOSED_WITHIN), () -> "a header still incomplete after " + sent.get() + " more bytes was not cut off");
    }
  }

  @Test
  void aRequestInHandStopsTheDeadlineWhichStartsAgainAfterItsResponse() throws Exception {
    try (RawConnection client = RawConnection.open(api.base(), "127.0.0.23")) {
      // Sent over the deadline and 1.5 s more (well within the 10 s a body may take), stretched by trailing
      // blanks, which JSON allows.
      String json = "{\"entries\":[]}";
      String body = json + " ".repeat(Math.max(0, (int) ((DEADLINE.toMillis() + 1_500) / TRICKLE_MS) - json.length()));
      client.send("POST /weights/preview HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n");
      trickle(client, body.chars().mapToObj(c -> String.valueOf((char) c)).iterator());
      assertEquals(200, client.response().status());
      // The connection outlived the deadline counted from its open; counted from the response, it has time.
      assertEquals(200, client.get("/hc").status());
      assertTrue(client.closedByServerWithin(CLOSED_WITHIN), "an idle keep-alive connection stayed open");
    }
  }

  /** Sends {@code bytes} one every {@link #TRICKLE_MS} in the background, until they run out or the connection fails; counts them. */
  private static AtomicInteger trickle(RawConnection connection, Iterator<String> bytes) {
    AtomicInteger sent = new AtomicInteger();
    sender.scheduleAtFixedRate(
        () -> {
          try {
            if (!bytes.hasNext()) throw new IllegalStateException("all sent"); // ends the schedule
            connection.send(bytes.next());
            sent.incrementAndGet();
          } catch (IOException closed) {
            throw new IllegalStateException("closed", closed); // ends the schedule
          }
        },
        0,
        TRICKLE_MS,
        TimeUnit.MILLISECONDS);
    return sent;
  }
}
