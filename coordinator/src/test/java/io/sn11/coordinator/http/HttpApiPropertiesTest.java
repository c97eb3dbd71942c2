package io.sn11.coordinator.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sn11.coordinator.http.ApiNode.Answer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Random and malformed requests against a real server: a valid submission with one field replaced, removed
 * or added, or a body that is not JSON at all, and random query strings. The answer is never a 5xx, and a
 * refused submission leaves no model behind.
 */
class HttpApiPropertiesTest {
  private static Path dir;
  private static ApiNode api;

  @BeforeContainer
  static void start() throws Exception {
    dir = Files.createTempDirectory("http-properties");
    api = ApiNode.start(dir);
  }

  @AfterContainer
  static void stop() throws Exception {
    api.close();
  }

  private static final List<String> FIELDS =
      List.of("repo_namespace", "repo_name", "chat_template_type", "hotkey", "hash", "block", "revision", "competition_id", "admin_key", "extra");

  /** A change to a valid body: which field, and the new JSON value (null: remove the field). */
  record Mutation(String field, JsonNode value) {}

  /** Each try submits its own model, so that what an earlier try created cannot be mistaken for this one's. */
  private static final java.util.concurrent.atomic.AtomicInteger TRIES = new java.util.concurrent.atomic.AtomicInteger();

  @Provide
  Arbitrary<Mutation> mutations() {
    Arbitrary<JsonNode> values =
        Arbitraries.oneOf(
            Arbitraries.strings().ofMaxLength(80).map(ApiNode.JSON.getNodeFactory()::textNode),
            Arbitraries.strings().withChars("0123456789-.eE").ofMaxLength(25).map(ApiNode.JSON.getNodeFactory()::textNode),
            Arbitraries.longs().map(ApiNode.JSON.getNodeFactory()::numberNode),
            Arbitraries.doubles().map(ApiNode.JSON.getNodeFactory()::numberNode),
            Arbitraries.just(ApiNode.JSON.getNodeFactory().booleanNode(true)),
            Arbitraries.just(ApiNode.JSON.getNodeFactory().objectNode().put("nested", 1)),
            Arbitraries.just(ApiNode.JSON.getNodeFactory().arrayNode().add(1)),
            Arbitraries.just(ApiNode.JSON.getNodeFactory().nullNode()),
            Arbitraries.just((JsonNode) null));
    return Combinators.combine(Arbitraries.of(FIELDS), values).as(Mutation::new);
  }

  @Property(tries = 150, edgeCases = EdgeCasesMode.NONE)
  void aMutatedSubmissionIsAcceptedOrRefusedWithA4xxAndARefusalChangesNothing(@ForAll("mutations") Mutation mutation) throws Exception {
    int attempt = TRIES.incrementAndGet();
    ApiNode.Model model = ApiNode.model("prop-" + attempt, "m", ApiNode.hotkey("prop" + attempt), 1);
    ObjectNode body = model.json();
    if (mutation.value() == null) body.remove(mutation.field());
    else body.set(mutation.field(), mutation.value());

    Answer answer = api.adminPost("/check_model", body);
    assertTrue(answer.status() < 500, () -> "5xx for " + body + ": " + answer.raw());
    if (answer.status() != 200) {
      assertTrue(answer.status() >= 400, answer::raw);
      assertEquals("application/json", answer.contentType(), answer::raw);
      assertEquals(404, api.get("/models/" + model.hash()).status(), "a refusal leaves no model");
    }
  }

  @Property(tries = 100, edgeCases = EdgeCasesMode.NONE)
  void bodiesThatAreNotTheRightJsonAreRefusedWithA4xx(@ForAll("rawBodies") String raw) throws Exception {
    Answer answer = api.post("/check_model", raw, "Authorization", "Bearer " + ApiNode.TOKEN);
    assertTrue(answer.status() >= 400 && answer.status() < 500, () -> raw + " answered " + answer.status() + " " + answer.raw());
    // The validators' reports: a body that is not their JSON is refused too (telemetry takes any object, so "{}"-like bodies may pass).
    for (String route : List.of("/event_report", "/telemetry_report")) {
      Answer report = api.post(route, raw, "Hotkey", ApiNode.hotkey("property-validator"));
      assertTrue(report.status() < 500, () -> route + " " + raw + " answered " + report.raw());
      if (report.status() != 200) assertEquals("application/json", report.contentType(), report::raw);
    }
  }

  @Provide
  Arbitrary<String> rawBodies() {
    return Arbitraries.oneOf(
        Arbitraries.strings().ofMaxLength(200),
        Arbitraries.strings().withChars("{}[]\":,0123456789abc \\").ofMaxLength(60),
        Arbitraries.just("[]"),
        Arbitraries.just("null"));
  }

  @Property(tries = 150, edgeCases = EdgeCasesMode.NONE)
  void randomQueriesNeverGiveA5xx(@ForAll("queries") Map<String, String> query) throws Exception {
    for (String route :
        List.of("/model_submission_details", "/weights", "/models/1/verdicts", "/leaderboard", "/queue", "/weights/history", "/nodes", "/validators")) {
      Answer answer = api.get(route + "?" + ApiNode.query(query));
      assertTrue(answer.status() < 500, () -> route + "?" + query + " answered " + answer.raw());
    }
  }

  @Provide
  Arbitrary<Map<String, String>> queries() {
    Arbitrary<String> keys =
        Arbitraries.oneOf(
            Arbitraries.of("repo_namespace", "repo_name", "chat_template_type", "hotkey", "hash", "block", "current_block", "burn_uid", "burn_share", "page", "page_size", "limit"),
            Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(12));
    return Arbitraries.maps(keys, Arbitraries.strings().ofMaxLength(40)).ofMaxSize(8);
  }
}
