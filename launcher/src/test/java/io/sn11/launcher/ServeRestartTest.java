package io.sn11.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sn11.coordinator.http.ApiNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sn11.cluster.scoring.ModelHash;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sn11 serve} in a separate JVM, stopped with SIGTERM (coordinated shutdown) and started again on
 * the same data folder: everything the answers depend on is in the journal, so they come back the same.
 * Restarted with a setting that shapes scores, serve requires its own gpu-node's new fingerprint (it follows its
 * local gpu-node); with that turned off, as in a cluster, the recorded one stays required.
 */
class ServeRestartTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern SERVING = Pattern.compile("SN11 is serving on (http://[^ ]+:\\d+)");
  private static final String ALICE = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
  private static final String BOB = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";
  private static final String CHARLIE = "5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y";
  private static final String DAVE = "5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy";

  @TempDir Path tmp;

  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
  private final List<Process> processes = new ArrayList<>();
  private Path stderrLog;

  /** A started server: its process, base address and how long it took to answer /hc. */
  private record Served(Process process, URI base, long millisToHealthy) {}

  @AfterEach
  void killEveryChild() throws Exception {
    for (Process process : processes) {
      if (process.isAlive()) {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void aRestartOnTheSameDataFolderAnswersTheSame() throws Exception {
    Path data = tmp.resolve("data");
    Served first = serve(data, "first");
    String token = Files.readString(data.resolve("admin-token"), StandardCharsets.UTF_8).trim();

    // A submission of a demo model that the node's own worker evaluates, two imported results, two miners in the registry.
    ObjectNode evaluated = model("sn11-demo", "tiny-llama", ALICE, 150);
    assertEquals(200, post(first, "/check_model", evaluated, token).statusCode());
    ObjectNode scoredA = model("bob-org", "scored-a", BOB, 100);
    scoredA.set("score", JSON.createObjectNode().put("judge_score", 0.6));
    ObjectNode scoredB = model("charlie-org", "scored-b", CHARLIE, 50);
    scoredB.set("score", JSON.createObjectNode().put("judge_score", 0.3));
    assertEquals(200, post(first, "/admin/results", scoredA, token).statusCode());
    assertEquals(200, post(first, "/admin/results", scoredB, token).statusCode());
    assertEquals(200, post(first, "/minerboard_update", registration(0, scoredA), token).statusCode());
    assertEquals(200, post(first, "/minerboard_update", registration(1, scoredB), token).statusCode());
    ApiNode.await(
        "both miners COMPLETED on the minerboard",
        () -> getJson(first, "/minerboard"),
        board -> board.size() == 2 && board.get(0).path("status").asText().equals("COMPLETED") && board.get(1).path("status").asText().equals("COMPLETED"));

    JsonNode evaluatedRecord =
        ApiNode.await(
            "the demo model COMPLETED by the node's worker",
            Duration.ofMinutes(3),
            () -> getJson(first, "/model_submission_details?" + query(evaluated)),
            record -> record.path("status").asText().equals("COMPLETED"));
    assertTrue(evaluatedRecord.at("/score/judge_score").isNumber(), evaluatedRecord::toString);
    JsonNode scoredRecord = getJson(first, "/model_submission_details?" + query(scoredA));
    JsonNode minerboard = getJson(first, "/minerboard");
    JsonNode weights = fold(first, 1000, token);
    assertEquals(1000, weights.get("last_folded_block").asLong(), weights::toString);
    JsonNode folded = getJson(first, "/weights");
    // uid0 0.6 @100 beats uid1 0.3 @50 (0.582 > 0.3): win rates 1 and 0; step = softmax(1/0.075, 0) = 0.99999838, 1.62e-6
    double step0 = 1 / (1 + Math.exp(-1 / 0.075));
    assertEquals(0.1 * step0, weights.at("/uids/0/weight").asDouble(), 1e-12);

    String required = getJson(first, "/scoring/fingerprint").at("/required/id").asText();
    assertTrue(required.startsWith("sf-"), "the node's own fingerprint, adopted: " + required);
    assertEquals(required, evaluatedRecord.at("/details/evaluation/scoring_fingerprint").asText(), evaluatedRecord::toString);

    stop(first);
    // Restarted with a gpu-node that scores otherwise: serve requires its new fingerprint, recorded as a second one.
    Path otherSamples = Files.writeString(tmp.resolve("other-samples.conf"), "sn11.gpu-node.evaluation.samples = 3\n");
    Served second = serve(data, "second", "--config", otherSamples.toString());
    JsonNode version =
        ApiNode.await(
            "the restarted gpu-node's fingerprint required",
            () -> getJson(second, "/scoring/fingerprint"),
            v -> v.path("history").size() == 2);
    String changed = version.at("/required/id").asText();
    assertTrue(changed.startsWith("sf-") && !changed.equals(required), version::toString);
    assertEquals(List.of(required, changed), List.of(version.at("/history/0/id").asText(), version.at("/history/1/id").asText()), version::toString);
    JsonNode matching =
        ApiNode.await(
            "the restarted gpu-node described in /nodes",
            () -> getJson(second, "/nodes").path("members").get(0),
            member -> member.path("fingerprint").isObject());
    assertEquals(changed, matching.at("/fingerprint/id").asText(), matching::toString);
    assertTrue(matching.path("matches_required").booleanValue(), matching::toString);

    // The same answers: records, registry, and the moving average (folding block 1000 again is refused).
    assertEquals(evaluatedRecord, getJson(second, "/model_submission_details?" + query(evaluated)));
    assertEquals(scoredRecord, getJson(second, "/model_submission_details?" + query(scoredA)));
    assertEquals(minerboard, getJson(second, "/minerboard"));
    assertEquals(folded, getJson(second, "/weights"));
    assertEquals(409, send(second, "/admin/weights/fold", JSON.createObjectNode().put("current_block", 1000), token).statusCode());

    // A later block continues the average from where it was before the restart: 0.9 * previous + 0.1 * step.
    JsonNode later = fold(second, 2000, token);
    for (int i = 0; i < 2; i++) {
      double previous = weights.at("/uids/" + i + "/weight").asDouble();
      double step = later.at("/uids/" + i + "/step_weight").asDouble();
      assertEquals(0.9 * previous + 0.1 * step, later.at("/uids/" + i + "/weight").asDouble(), 1e-12);
    }
    assertEquals(0.19 * step0, later.at("/uids/0/weight").asDouble(), 1e-12);

    // The node gets work again: a new submission completes under the new fingerprint; the old model keeps its score under the old one.
    ObjectNode afterChange = model("sn11-demo", "tiny-mistral", DAVE, 160);
    assertEquals(200, post(second, "/check_model", afterChange, token).statusCode());
    JsonNode afterChangeRecord =
        ApiNode.await(
            "the model submitted after the change COMPLETED",
            Duration.ofMinutes(3),
            () -> getJson(second, "/model_submission_details?" + query(afterChange)),
            record -> record.path("status").asText().equals("COMPLETED"));
    assertEquals(changed, afterChangeRecord.at("/details/evaluation/scoring_fingerprint").asText(), afterChangeRecord::toString);
    assertEquals(evaluatedRecord, getJson(second, "/model_submission_details?" + query(evaluated)));
    stop(second);

    // As a cluster does (the default off): restarted with yet another setting, the recorded fingerprint stays required
    // and the node, which scores otherwise, is shown mismatched.
    Path clusterDefault =
        Files.writeString(
            tmp.resolve("cluster-default.conf"), "sn11.gpu-node.evaluation.samples = 5\nsn11.coordinator.scoring.follow-local-gpu-node = off\n");
    Served third = serve(data, "third", "--config", clusterDefault.toString());
    JsonNode mismatched =
        ApiNode.await(
            "the gpu-node described in /nodes",
            () -> getJson(third, "/nodes").path("members").get(0),
            member -> member.path("fingerprint").isObject());
    assertTrue(mismatched.path("matches_required").isBoolean() && !mismatched.path("matches_required").booleanValue(), mismatched::toString);
    JsonNode kept = getJson(third, "/scoring/fingerprint");
    assertEquals(changed, kept.at("/required/id").asText(), kept::toString);
    assertEquals(2, kept.path("history").size(), kept::toString);

    System.out.printf(
        "sn11 serve: process start to /hc answering: %d ms on a new data folder, %d ms after the restart%n",
        first.millisToHealthy(), second.millisToHealthy());
    stop(third);
  }

  /** {@code sn11 serve --judge-model demo}: the demo model's verdicts come from the engine judge, the tiny demo judge. */
  @Test
  void withTheDemoJudgeModelTheDemoIsJudgedByTheEngineJudge() throws Exception {
    Path data = tmp.resolve("data");
    Path config = Files.writeString(tmp.resolve("short.conf"), """
        sn11.gpu-node.threads = 1
        sn11.gpu-node.evaluation.samples = 3
        sn11.judge.generation.max-new-tokens = 16
        sn11.judge.model.max-new-tokens = 200
        """);
    Served served = serve(data, "judged", "--judge-model", "demo", "--config", config.toString());
    String token = Files.readString(data.resolve("admin-token"), StandardCharsets.UTF_8).trim();
    ObjectNode demo = model("sn11-demo", "tiny-qwen2", ALICE, 150);
    assertEquals(200, post(served, "/check_model", demo, token).statusCode());
    JsonNode record =
        ApiNode.await(
            "the demo model judged by the demo judge",
            Duration.ofMinutes(3),
            () -> getJson(served, "/model_submission_details?" + query(demo)),
            r -> !r.path("status").asText().matches("QUEUED|PRECHECK|RUNNING"));
    assertEquals("COMPLETED", record.path("status").asText(), record::toString);
    JsonNode evaluation = record.at("/details/evaluation");
    assertEquals("engine[sn11-demo/tiny-judge@main]", evaluation.path("judge").asText(), record::toString);
    assertEquals("3", evaluation.path("judge_valid_verdicts").asText(), record::toString);
    JsonNode verdicts =
        ApiNode.await(
            "the verdicts on the read side",
            () -> getJson(served, "/models/" + demo.get("hash").asText() + "/verdicts"),
            page -> page.path("total").asInt() > 0);
    for (JsonNode verdict : verdicts.path("verdicts")) {
      assertEquals("engine", verdict.at("/judge_identity/kind").asText(), verdict::toString);
      assertEquals("sn11-demo/tiny-judge@main", verdict.at("/judge_identity/model").asText(), verdict::toString);
    }
    stop(served);
  }

  // ---- the child process ------------------------------------------------------------------------

  /** Starts {@code sn11 serve} on a free port, with {@code options} added, and waits for the serving line and a healthy /hc. */
  private Served serve(Path data, String name, String... options) throws Exception {
    String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    int port = freePort();
    stderrLog = tmp.resolve(name + "-stderr.log");
    List<String> command = new java.util.ArrayList<>(List.of(javaBin, "-Xmx512m"));
    command.addAll(io.sn11.engine.EngineJvm.OPTIONS);
    command.addAll(
        List.of(
            "-cp", System.getProperty("java.class.path"),
            "io.sn11.launcher.Sn11", "serve", "--data-dir", data.toString(), "--http-port", Integer.toString(port)));
    command.addAll(List.of(options));
    ProcessBuilder builder = new ProcessBuilder(command).redirectError(stderrLog.toFile());
    // The token must come from the data folder, as an operator's first start would make it.
    builder.environment().remove(AdminToken.ENV);
    long started = System.nanoTime();
    Process process = builder.start();
    processes.add(process);

    CompletableFuture<String> servingLine = new CompletableFuture<>();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = lines.readLine()) != null; ) {
                  System.out.println("[" + name + "] " + line);
                  if (SERVING.matcher(line).find()) servingLine.complete(line);
                }
              } catch (IOException ignored) {
                // the process went away
              } finally {
                servingLine.completeExceptionally(new AssertionError("sn11 serve exited without the serving line"));
              }
            },
            "sn11-" + name + "-stdout");
    reader.setDaemon(true);
    reader.start();

    URI base = URI.create("http://127.0.0.1:" + port);
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    while (true) {
      if (!process.isAlive()) throw new AssertionError("sn11 serve exited with " + process.exitValue() + "; stderr:\n" + stderr());
      if (System.nanoTime() > deadline) throw new AssertionError("sn11 serve did not answer /hc within 120 s; stderr:\n" + stderr());
      try {
        HttpResponse<String> hc = client.send(HttpRequest.newBuilder(base.resolve("/hc")).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        if (hc.statusCode() == 200 && JSON.readTree(hc.body()).path("g").asBoolean()) break;
      } catch (ConnectException | java.net.http.HttpTimeoutException notYet) {
        // not bound yet
      }
      Thread.sleep(50);
    }
    long millis = Duration.ofNanos(System.nanoTime() - started).toMillis();

    Matcher serving = SERVING.matcher(servingLine.get(30, TimeUnit.SECONDS));
    assertTrue(serving.find());
    assertEquals(base.toString(), serving.group(1));
    return new Served(process, base, millis);
  }

  /** SIGTERM: the JVM's shutdown hook runs Pekko's coordinated shutdown. */
  private void stop(Served served) throws Exception {
    served.process().destroy();
    assertTrue(served.process().waitFor(60, TimeUnit.SECONDS), "sn11 serve did not stop within 60 s after SIGTERM; stderr:\n" + stderr());
  }

  private String stderr() {
    try {
      return stderrLog == null || !Files.exists(stderrLog) ? "" : Files.readString(stderrLog, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(unreadable: " + e + ")";
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    }
  }

  // ---- HTTP ---------------------------------------------------------------------------------------

  private static ObjectNode model(String namespace, String name, String hotkey, long block) {
    return JSON.createObjectNode()
        .put("repo_namespace", namespace)
        .put("repo_name", name)
        .put("chat_template_type", "chatml")
        .put("hotkey", hotkey)
        .put("hash", ModelHash.of(namespace, name, "chatml", hotkey))
        .put("block", block);
  }

  private static ObjectNode registration(int uid, ObjectNode model) {
    return JSON.createObjectNode().put("uid", uid).put("hash", model.get("hash").asText()).put("hotkey", model.get("hotkey").asText()).put("block", model.get("block").asLong());
  }

  private static String query(ObjectNode model) {
    StringBuilder query = new StringBuilder();
    for (String field : List.of("repo_namespace", "repo_name", "chat_template_type", "hotkey", "hash")) {
      if (query.length() > 0) query.append('&');
      query.append(field).append('=').append(java.net.URLEncoder.encode(model.get(field).asText(), StandardCharsets.UTF_8));
    }
    return query.toString();
  }

  private HttpResponse<String> post(Served served, String path, JsonNode body, String token) throws Exception {
    HttpResponse<String> response = send(served, path, body, token);
    assertEquals(200, response.statusCode(), () -> path + " answered " + response.body());
    return response;
  }

  private HttpResponse<String> send(Served served, String path, JsonNode body, String token) throws Exception {
    HttpRequest request =
        HttpRequest.newBuilder(served.base().resolve(path))
            .timeout(Duration.ofSeconds(30))
            .header("Content-Type", "application/json")
            .header("Authorization", "Bearer " + token)
            .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
            .build();
    return client.send(request, HttpResponse.BodyHandlers.ofString());
  }

  /** Folds {@code block} into the moving average (POST /admin/weights/fold) and answers the fold. */
  private JsonNode fold(Served served, long block, String token) throws Exception {
    return JSON.readTree(post(served, "/admin/weights/fold", JSON.createObjectNode().put("current_block", block), token).body());
  }

  private JsonNode getJson(Served served, String pathAndQuery) throws Exception {
    HttpResponse<String> response =
        client.send(HttpRequest.newBuilder(served.base().resolve(pathAndQuery)).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, response.statusCode(), () -> pathAndQuery + " answered " + response.body());
    return JSON.readTree(response.body());
  }
}
