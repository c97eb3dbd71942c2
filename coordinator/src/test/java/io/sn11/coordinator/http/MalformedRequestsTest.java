package io.sn11.coordinator.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.event.Logging;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.slf4j.LoggerFactory;

/**
 * Requests the HTTP parser refuses, sent over a raw socket: each is the client's fault, so it answers a
 * 4xx with the JSON error shape and logs at most one short line, never a stack trace.
 */
class MalformedRequestsTest {
  @TempDir static Path dir;
  static ApiNode api;
  static final ListAppender<ILoggingEvent> log = new ListAppender<>();
  static final AtomicInteger barriers = new AtomicInteger();

  @BeforeAll
  static void start() throws Exception {
    api = ApiNode.start(dir);
    log.start();
    root().addAppender(log);
  }

  @AfterAll
  static void stop() throws Exception {
    root().detachAppender(log);
    if (api != null) api.close();
  }

  private static Logger root() {
    return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }

  private static final String CHUNKED_SUBMISSION =
      "POST /check_model HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + ApiNode.TOKEN
          + "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "a chunk size that is not hexadecimal | zz\\r\\n{}\\r\\n0\\r\\n\\r\\n",
        "a chunk size above 2^31 | 80000001\\r\\n{}\\r\\n0\\r\\n\\r\\n",
        "a chunk extension above the limit | 2;EXTENSION\\r\\n{}\\r\\n0\\r\\n\\r\\n",
        "chunk data not followed by CRLF | 2\\r\\n{}XX0\\r\\n\\r\\n",
      })
  void aMalformedChunkedBodyIs400WithTheJsonShapeAndNoStackTrace(String problem, String body) throws Exception {
    String raw = body.replace("\\r\\n", "\r\n").replace("EXTENSION", "x".repeat(300));
    int before = logged();
    try (RawConnection connection = RawConnection.open(api.base(), "127.0.0.1")) {
      assertJsonRefusal(connection.send(CHUNKED_SUBMISSION + raw).response(), 400);
    }
    assertQuietLog(before, 1);
  }

  @Test
  void aTruncatedChunkedBodyLogsNoStackTrace() throws Exception {
    int before = logged();
    try (RawConnection connection = RawConnection.open(api.base(), "127.0.0.1")) {
      connection.send(CHUNKED_SUBMISSION + "40\r\n{\"repo_namespace\":").shutdownOutput();
      // The client has gone: there may be no one to answer, but a response, if any, is the JSON 400.
      RawConnection.Response answer = connection.responseIfAny();
      if (answer != null) assertJsonRefusal(answer, 400);
    }
    assertQuietLog(before, 1);
  }

  @Test
  void theParsersOwnRefusalsHaveTheJsonShape() throws Exception {
    int before = logged();
    assertJsonRefusal(request("GET /hc?" + "a".repeat(5_000) + " HTTP/1.1\r\nHost: localhost\r\n\r\n"), 414);
    assertJsonRefusal(request("GET /hc HTTP/1.1\r\nHost: localhost\r\nX-Padding: " + "p".repeat(9_000) + "\r\n\r\n"), 431);
    StringBuilder manyHeaders = new StringBuilder("GET /hc HTTP/1.1\r\nHost: localhost\r\n");
    for (int i = 0; i < 70; i++) manyHeaders.append("X-Header-").append(i).append(": ").append(i).append("\r\n");
    // The README says 400 for more than 64 headers (the parser's answer; 431 is for a header too large).
    assertJsonRefusal(request(manyHeaders.append("\r\n").toString()), 400);
    assertJsonRefusal(request("GET /hc%zz HTTP/1.1\r\nHost: localhost\r\n\r\n"), 400);
    assertJsonRefusal(request("NOT A REQUEST LINE\r\n\r\n"), 501);
    assertQuietLog(before, 5);
  }

  private static RawConnection.Response request(String raw) throws Exception {
    try (RawConnection connection = RawConnection.open(api.base(), "127.0.0.1")) {
      return connection.send(raw).response();
    }
  }

  private static void assertJsonRefusal(RawConnection.Response answer, int status) throws Exception {
    assertEquals(status, answer.status(), answer.body());
    assertEquals("application/json", answer.headers().get("content-type"), answer.body());
    assertFalse(answer.json().path("detail").asText().isBlank(), answer.body());
  }

  private static int logged() {
    synchronized (log) {
      return log.list.size();
    }
  }

  /**
   * What was logged since {@code from}: at most {@code lines} short lines, none with a stack trace. Pekko
   * logs through an actor, so a marker logged the same way and seen in the log means everything the
   * server logged before it is there too.
   */
  private static void assertQuietLog(int from, int lines) throws Exception {
    String marker = "log barrier " + barriers.incrementAndGet();
    Logging.getLogger(api.node().system().classicSystem(), "barrier").warning(marker);
    ApiNode.await("the log barrier", () -> logSince(from), events -> events.stream().anyMatch(e -> marker.equals(e.getFormattedMessage())));
    List<ILoggingEvent> events = logSince(from).stream().filter(e -> !marker.equals(e.getFormattedMessage())).toList();
    for (ILoggingEvent event : events) {
      assertNull(event.getThrowableProxy(), () -> "a stack trace was logged: " + event);
      assertTrue(event.getFormattedMessage().length() < 300 && !event.getFormattedMessage().contains("\n"), () -> "a long log line: " + event);
    }
    assertTrue(events.size() <= lines, () -> "more than " + lines + " log lines: " + events);
  }

  private static List<ILoggingEvent> logSince(int from) {
    synchronized (log) {
      return List.copyOf(log.list.subList(from, log.list.size()));
    }
  }
}
