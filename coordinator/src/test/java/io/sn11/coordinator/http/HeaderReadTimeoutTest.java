package io.sn11.coordinator.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The header-read deadline: from a connection's open, or the end of its last response, a client has
 * header-read-timeout to complete the next request's header. Idle connections and slow senders (a header
 * line now and then, which keeps an idle timeout from ever firing) are closed after it; a client that
 * keeps asking is served for as long as it likes.
 */
class HeaderReadTimeoutTest {
  static final Duration DEADLINE = Duration.ofSeconds(2);
  /** Far above the deadline and far below Pekko's idle-timeout (60 s), which closes idle connections anyway. */
  static final Duration CLOSED_WITHIN = Duration.ofSeconds(30);
  @TempDir static Path dir;
  static ApiNode api;

  @BeforeAll
  static void start() throws Exception {
    api = ApiNode.start(dir, Map.of("sn11.coordinator.http.header-read-timeout", DEADLINE.toMillis() + "ms"), List.of());
  }

  @AfterAll
  static void stop() throws Exception {
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
    ScheduledExecutorService sender = Executors.newSingleThreadScheduledExecutor();
    try (RawConnection slow = RawConnection.open(api.base(), "127.0.0.22")) {
      slow.send("GET /hc HTTP/1.1\r\nHost: localhost\r\nX-Slow: ");
      AtomicInteger bytes = new AtomicInteger();
      // One more byte of a header value every quarter of a second: never idle, and far from any header limit.
      sender.scheduleAtFixedRate(
          () -> {
            try {
              slow.send("s");
              bytes.incrementAndGet();
            } catch (IOException closed) {
              throw new IllegalStateException("closed", closed); // ends the schedule
            }
          },
          0,
          250,
          TimeUnit.MILLISECONDS);
      assertTrue(slow.closedByServerWithin(CLOSED_WITHIN), () -> "a header still incomplete after " + bytes.get() + " more bytes was not cut off");
    } finally {
      sender.shutdownNow();
    }
  }

  @Test
  void aClientThatKeepsAskingIsServedPastTheDeadlineThenClosedOnceIdle() throws Exception {
    try (RawConnection client = RawConnection.open(api.base(), "127.0.0.23")) {
      long until = System.nanoTime() + DEADLINE.multipliedBy(3).toNanos();
      int answered = 0;
      while (System.nanoTime() < until) {
        assertEquals(200, client.get("/hc").status());
        answered++;
      }
      assertTrue(answered > 1, "answered " + answered);
      assertTrue(client.closedByServerWithin(CLOSED_WITHIN), "an idle keep-alive connection stayed open");
    }
  }
}
