package io.sn11.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Option;

/** The options every API client command shares, and the HTTP calls they make. */
final class ApiClient {
  @Option(names = "--url", defaultValue = "http://127.0.0.1:8080", description = "The coordinator's HTTP API (default: ${DEFAULT-VALUE}).")
  URI url;

  @Option(names = "--token", description = "Admin token; default: $SN11_ADMIN_TOKEN, else <data-dir>/admin-token.")
  String token;

  @Option(names = "--data-dir", defaultValue = "./data", description = "Data folder of a local `sn11 serve`, for its admin token (default: ${DEFAULT-VALUE}).")
  Path dataDir;

  static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private String resolvedToken;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  record Answer(int status, JsonNode body) {
    boolean ok() {
      return status / 100 == 2;
    }
  }

  Answer get(String pathAndQuery) throws IOException, InterruptedException {
    return send(HttpRequest.newBuilder(url.resolve(pathAndQuery)).GET(), false);
  }

  Answer post(String path, JsonNode body, boolean admin) throws IOException, InterruptedException {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(url.resolve(path))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
    return send(request, admin);
  }

  private Answer send(HttpRequest.Builder request, boolean admin) throws IOException, InterruptedException {
    if (admin) request.header("Authorization", "Bearer " + adminToken());
    HttpResponse<byte[]> response = http.send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofByteArray());
    JsonNode body = response.body().length == 0 ? JSON.nullNode() : JSON.readTree(response.body());
    return new Answer(response.statusCode(), body);
  }

  /** The admin token, looked up once (a load test sends many admin requests). */
  private synchronized String adminToken() throws IOException {
    if (resolvedToken == null) {
      resolvedToken =
          AdminToken.forClient(token, dataDir)
              .orElseThrow(
                  () -> new IllegalStateException("no admin token: pass --token, set $" + AdminToken.ENV + " or run next to the data folder of `sn11 serve`"));
    }
    return resolvedToken;
  }

  /** Prints the answer's JSON; a refusal goes to stderr and gives exit code 1. */
  static int print(Answer answer) throws IOException {
    String text = JSON.writeValueAsString(answer.body());
    if (answer.ok()) {
      System.out.println(text);
      return 0;
    }
    System.err.println("HTTP " + answer.status() + ": " + text);
    return 1;
  }
}
