package io.sn11.coordinator.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sn11.cluster.node.NodeConfig;
import io.sn11.cluster.node.Sn11Node;
import io.sn11.cluster.scoring.ModelHash;
import io.sn11.coordinator.CoordinatorRole;
import io.sn11.coordinator.evaluation.ModelEvaluation;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.pattern.StatusReply;

/**
 * One coordinator node started in-process on a temporary data folder, and a plain java.net.http client
 * for its API. The tests talk to it only over HTTP, as a validator would.
 */
public final class ApiNode implements AutoCloseable {
  public static final String TOKEN = "test-admin-token-0123456789";
  public static final ObjectMapper JSON = new ObjectMapper();

  private final Sn11Node node;
  private final URI base;
  private final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();

  private ApiNode(Sn11Node node, URI base) {
    this.node = node;
    this.base = base;
  }

  public static ApiNode start(Path dataDir) throws Exception {
    return start(dataDir, Map.of(), List.of());
  }

  /** A node with the coordinator role and {@code otherRoles}, with {@code settings} over the test defaults. */
  public static ApiNode start(Path dataDir, Map<String, Object> settings, List<Sn11Node.Role> otherRoles) throws Exception {
    Map<String, Object> options = new LinkedHashMap<>(settings);
    options.put("sn11.data-dir", dataDir.toString());
    options.put("sn11.coordinator.http.port", 0);
    options.put("sn11.coordinator.admin-tokens", List.of(TOKEN));
    // Tests send bursts far above any client's fair share; RequestLimitsTest sets its own limits.
    options.putIfAbsent("sn11.coordinator.http.rate-limits.default.requests", 1_000_000);
    for (String route : List.of("check_model", "telemetry_report", "event_report")) {
      options.putIfAbsent("sn11.coordinator.http.rate-limits.routes." + route + ".requests", 1_000_000);
    }
    CoordinatorRole role = new CoordinatorRole();
    List<Sn11Node.Role> roles = new java.util.ArrayList<>(List.of(role));
    roles.addAll(otherRoles);
    Sn11Node node = Sn11Node.start(NodeConfig.load(options, null, "single-node.conf"), roles);
    return new ApiNode(node, URI.create("http://127.0.0.1:" + role.httpAddress().getPort()));
  }

  /** A client for a node running elsewhere (another process) that answers at {@code base}; closing it stops nothing. */
  public static ApiNode at(URI base) {
    return new ApiNode(null, base);
  }

  /** Where the API listens, as {@code http://127.0.0.1:PORT}. */
  public URI base() {
    return base;
  }

  public HttpClient client() {
    return client;
  }

  public Sn11Node node() {
    return node;
  }

  @Override
  public void close() throws Exception {
    if (node != null) node.close();
  }

  // ---- requests -----------------------------------------------------------------------------------

  /** A response with its body read as JSON (null when the body is not JSON). */
  public record Answer(int status, JsonNode body, String contentType, String raw) {
    public Answer expect(int expected) {
      assertEquals(expected, status, () -> "HTTP status; body: " + raw);
      return this;
    }

    /** Asserts a refusal: the status and the JSON {@code detail} and {@code field} (field null: absent). */
    public Answer expectError(int expected, String field) {
      expect(expected);
      assertEquals("application/json", contentType, "content type of " + raw);
      if (body == null || !body.path("detail").isTextual() || body.path("detail").asText().isBlank()) {
        fail("expected a JSON body with a detail, was " + raw);
      }
      if (field == null) assertEquals(null, body.get("field"), "field of " + raw);
      else assertEquals(field, body.path("field").asText(null), "field of " + raw);
      return this;
    }

    public String detail() {
      return body.path("detail").asText();
    }
  }

  public HttpRequest.Builder request(String pathAndQuery) {
    return HttpRequest.newBuilder(base.resolve(pathAndQuery)).timeout(Duration.ofSeconds(30));
  }

  public Answer send(HttpRequest request) throws IOException, InterruptedException {
    HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
    JsonNode body;
    try {
      body = response.body().isEmpty() ? null : JSON.readTree(response.body());
    } catch (IOException notJson) {
      body = null;
    }
    String contentType = response.headers().firstValue("Content-Type").orElse(null);
    return new Answer(response.statusCode(), body, contentType, response.body());
  }

  public Answer get(String pathAndQuery, String... headers) throws IOException, InterruptedException {
    HttpRequest.Builder builder = request(pathAndQuery).GET();
    if (headers.length > 0) builder.headers(headers);
    return send(builder.build());
  }

  public Answer post(String path, String body, String... headers) throws IOException, InterruptedException {
    HttpRequest.Builder builder =
        request(path).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
    if (headers.length > 0) builder.headers(headers);
    return send(builder.build());
  }

  public Answer post(String path, JsonNode body, String... headers) throws IOException, InterruptedException {
    return post(path, body.toString(), headers);
  }

  public Answer adminPost(String path, JsonNode body) throws IOException, InterruptedException {
    return post(path, body, "Authorization", "Bearer " + TOKEN);
  }

  public static String query(Map<String, ?> parameters) {
    return parameters.entrySet().stream()
        .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "=" + URLEncoder.encode(String.valueOf(e.getValue()), StandardCharsets.UTF_8))
        .collect(Collectors.joining("&"));
  }

  // ---- models -------------------------------------------------------------------------------------

  /** A model's identifying fields as the API takes them; {@link #json()} is a check_model body. */
  public record Model(String namespace, String name, String template, String hotkey, long block) {
    public String hash() {
      return ModelHash.of(namespace, name, template, hotkey);
    }

    public Model atBlock(long newBlock) {
      return new Model(namespace, name, template, hotkey, newBlock);
    }

    public ObjectNode json() {
      ObjectNode node = JSON.createObjectNode();
      node.put("repo_namespace", namespace);
      node.put("repo_name", name);
      node.put("chat_template_type", template);
      node.put("hotkey", hotkey);
      node.put("hash", hash());
      node.put("block", block);
      return node;
    }

    public Map<String, Object> queryFields() {
      Map<String, Object> fields = new LinkedHashMap<>();
      json().fields().forEachRemaining(f -> fields.put(f.getKey(), f.getValue().asText()));
      return fields;
    }
  }

  public static Model model(String namespace, String name, String hotkey, long block) {
    return new Model(namespace, name, "chatml", hotkey, block);
  }

  /** A valid SS58 address (generic prefix 42) of a key derived from {@code seed}, distinct per seed. */
  public static String hotkey(String seed) {
    try {
      return Ss58Address.encode(42, MessageDigest.getInstance("SHA-256").digest(seed.getBytes(StandardCharsets.UTF_8)));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  // ---- the eventually consistent read side -----------------------------------------------------

  /** Polls {@code probe} until {@code condition} holds (at most 30 s); never a fixed sleep. */
  public static <T> T await(String what, ThrowingSupplier<T> probe, Predicate<T> condition) throws Exception {
    return await(what, Duration.ofSeconds(30), probe, condition);
  }

  /** Polls {@code probe} until {@code condition} holds, at most {@code limit}; never a fixed sleep. */
  public static <T> T await(String what, Duration limit, ThrowingSupplier<T> probe, Predicate<T> condition) throws Exception {
    long deadline = System.nanoTime() + limit.toNanos();
    T last = null;
    while (System.nanoTime() < deadline) {
      last = probe.get();
      if (condition.test(last)) return last;
      Thread.sleep(50);
    }
    throw new AssertionError("timed out waiting for " + what + "; last value: " + last);
  }

  @FunctionalInterface
  public interface ThrowingSupplier<T> {
    T get() throws Exception;
  }

  /** The minerboard row of {@code uid}, or null. */
  JsonNode minerboardRow(int uid) throws Exception {
    for (JsonNode row : get("/minerboard").expect(200).body()) if (row.path("uid").asInt() == uid) return row;
    return null;
  }

  /** Asks the model's entity directly, as a gpu-node's worker slot does (claim, running, progress, results). */
  public ModelEvaluation.State tell(Model model, Function<ActorRef<StatusReply<ModelEvaluation.State>>, ModelEvaluation.Command> command)
      throws Exception {
    return ClusterSharding.get(node.system())
        .entityRefFor(ModelEvaluation.TYPE_KEY, model.hash())
        .<ModelEvaluation.State>askWithStatus(command::apply, Duration.ofSeconds(10))
        .toCompletableFuture()
        .get();
  }

  /** Records a judge score produced elsewhere for {@code model} ({@code POST /admin/results}); the total follows it under the default rule. */
  public Answer importJudgeScore(Model model, double judgeScore) throws Exception {
    ObjectNode body = model.json();
    body.set("score", JSON.createObjectNode().put("judge_score", judgeScore));
    return adminPost("/admin/results", body);
  }

  /** Folds the weights at {@code block} into the persisted moving average ({@code POST /admin/weights/fold}). */
  public Answer foldWeights(long block) throws Exception {
    return adminPost("/admin/weights/fold", JSON.createObjectNode().put("current_block", block));
  }

  /** Registers {@code model} at {@code uid} (at the model's block). */
  public Answer register(int uid, Model model) throws Exception {
    ObjectNode body = JSON.createObjectNode().put("uid", uid).put("hash", model.hash()).put("hotkey", model.hotkey()).put("block", model.block());
    return adminPost("/minerboard_update", body);
  }

  /**
   * Waits until the read side shows {@code model} with {@code status}: registers it at {@code uid} (no
   * event when already registered so) and polls the minerboard, whose rows join the read side's records.
   */
  JsonNode awaitReadSide(int uid, Model model, String status) throws Exception {
    return awaitReadSide(uid, model, status, row -> true);
  }

  /** As above, and until {@code also} holds for the row: a status alone can match an earlier event (QUEUED before and after a requeue). */
  JsonNode awaitReadSide(int uid, Model model, String status, java.util.function.Predicate<JsonNode> also) throws Exception {
    register(uid, model).expect(200);
    return await(
        "uid " + uid + " with model " + model.hash() + " " + status + " on the minerboard",
        () -> minerboardRow(uid),
        row ->
            row != null && model.hash().equals(row.path("hash").asText()) && status.equals(row.path("status").asText(null)) && also.test(row));
  }
}
