package io.sn11.coordinator.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.sn11.coordinator.CoordinatorSettings;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Per-client rate limits per route, and the request line and header limits, on a real server. */
class RequestLimitsTest {
  @TempDir static Path dir;
  private static ApiNode api;

  @BeforeAll
  static void start() throws Exception {
    api =
        ApiNode.start(
            dir,
            Map.of("sn11.coordinator.http.rate-limits.routes.minerboard.requests", 3, "sn11.coordinator.http.rate-limits.routes.minerboard.per", "1h"),
            List.of());
  }

  @AfterAll
  static void stop() throws Exception {
    api.close();
  }

  @Test
  void aClientBeyondTheRoutesLimitGets429WithRetryAfterWhileOtherRoutesAnswer() throws Exception {
    for (int i = 0; i < 3; i++) api.get("/minerboard").expect(200);
    HttpResponse<String> refused = api.client().send(api.request("/minerboard").GET().build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(429, refused.statusCode(), refused.body());
    long retryAfter = Long.parseLong(refused.headers().firstValue("Retry-After").orElseThrow());
    // One token of three per hour comes back after 20 minutes.
    assertTrue(retryAfter > 0 && retryAfter <= 1200, "Retry-After " + retryAfter);
    // The client is told apart by the connection's address.
    assertTrue(ApiNode.JSON.readTree(refused.body()).path("detail").asText().contains("too many requests to minerboard from 127.0.0.1"), refused.body());
    api.get("/hc").expect(200);
  }

  @Test
  void aTooLongRequestLineOrHeaderIsRefusedBeforeAnyRoute() throws Exception {
    api.get("/model_submission_details?repo_name=" + "a".repeat(5_000)).expect(414);
    HttpRequest bigHeader = api.request("/hc").header("X-Padding", "p".repeat(9_000)).GET().build();
    assertEquals(431, api.client().send(bigHeader, HttpResponse.BodyHandlers.ofString()).statusCode());
  }

  @Test
  void aRateLimitForAnUnknownRouteIsAConfigurationError() {
    var config =
        ConfigFactory.parseString("sn11.coordinator.http.rate-limits.routes.check_models { requests = 1, per = 1s }")
            .withFallback(ConfigFactory.defaultReference())
            .resolve();
    IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> CoordinatorSettings.fromConfig(config));
    assertTrue(error.getMessage().contains("check_models: no such route"), error.getMessage());
  }
}
