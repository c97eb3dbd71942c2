package io.sn11.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sn11.cluster.node.Sn11Node;
import io.sn11.coordinator.http.ApiNode;
import io.sn11.coordinator.http.ApiNode.Model;
import io.sn11.gpunode.worker.GpuNodeRole;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two gpu-nodes that score differently (samples) and a coordinator with no fingerprint configured: the first node's
 * fingerprint is adopted and required, every model is evaluated by that node only, and {@code /nodes} marks the other
 * as mismatched. Real evaluations on the cpu backend, as in {@link EvaluationClusterTest}.
 */
class ScoringFingerprintClusterTest {
  private static final Duration DEADLINE = Duration.ofMinutes(3);

  @TempDir Path dir;

  private static String address(Sn11Node node) {
    return Cluster.get(node.system()).selfMember().address().hostPort();
  }

  private static JsonNode member(JsonNode nodes, Sn11Node node) {
    for (JsonNode member : nodes.path("members")) {
      if (member.path("address").asText().equals(address(node))) return member;
    }
    return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
  }

  @Test
  void onlyTheNodeScoringUnderTheRequiredFingerprintEvaluatesAndTheOtherIsMarkedMismatched() throws Exception {
    try (TestCluster cluster = TestCluster.start(dir);
        Sn11Node first = cluster.startGpuNode("gpu-first", new GpuNodeRole())) {
      ApiNode coordinator = cluster.coordinator;
      JsonNode adopted =
          ApiNode.await("the first node's fingerprint adopted", DEADLINE, () -> coordinator.get("/scoring/fingerprint").expect(200).body(), v -> !v.path("required").isNull());
      String required = adopted.path("required").path("id").asText();
      assertEquals("adopted", adopted.path("required").path("chosen").asText(), adopted.toString());
      assertEquals(address(first), adopted.path("required").path("adopted_from").asText());
      assertEquals("4", adopted.path("required").path("components").path("evaluation.samples").asText());

      try (Sn11Node other = cluster.startGpuNode("gpu-other", new GpuNodeRole(), Map.of("sn11.gpu-node.evaluation.samples", 3))) {
        JsonNode nodes =
            ApiNode.await(
                "both gpu-nodes described in /nodes",
                DEADLINE,
                () -> coordinator.get("/nodes").expect(200).body(),
                answer -> member(answer, first).path("fingerprint").isObject() && member(answer, other).path("fingerprint").isObject());
        assertEquals(required, nodes.path("required_fingerprint").path("id").asText(), nodes.toString());
        JsonNode matching = member(nodes, first);
        assertEquals(required, matching.path("fingerprint").path("id").asText());
        assertTrue(matching.path("matches_required").asBoolean(), matching.toString());
        JsonNode mismatched = member(nodes, other);
        assertNotEquals(required, mismatched.path("fingerprint").path("id").asText());
        assertTrue(mismatched.path("matches_required").isBoolean() && !mismatched.path("matches_required").booleanValue(), mismatched.toString());
        assertEquals("3", mismatched.path("fingerprint").path("components").path("evaluation.samples").asText(), mismatched.toString());
        assertEquals(1, mismatched.path("slots").size(), "its slot is listed, though offered no work: " + mismatched);

        List<Model> models =
            List.of(
                ApiNode.model("sn11-demo", "tiny-llama", ApiNode.hotkey("fingerprint-1"), 1_000),
                ApiNode.model("sn11-demo", "tiny-llama", ApiNode.hotkey("fingerprint-2"), 1_000));
        for (Model model : models) coordinator.adminPost("/evaluate_model", model.json()).expect(200);
        for (Model model : models) {
          JsonNode completed =
              ApiNode.await(
                  "model " + model.hash() + " completed",
                  DEADLINE,
                  () -> coordinator.get("/model_submission_details?" + ApiNode.query(model.queryFields())).expect(200).body(),
                  details -> details.path("status").asText().equals("COMPLETED"));
          JsonNode evaluation = completed.path("details").path("evaluation");
          assertEquals(required, evaluation.path("scoring_fingerprint").asText(), evaluation.toString());
          assertEquals("4", evaluation.path("samples").asText(), "scored by the first node's settings: " + evaluation);
          assertEquals(1, completed.path("details").path("attempt").asInt(), "nothing was refused: the other node got no offer");
          for (JsonNode event : coordinator.get("/models/" + model.hash() + "/events").expect(200).body().path("events")) {
            if (event.path("type").asText().equals("PrecheckStarted")) {
              assertTrue(event.path("event").path("worker").asText().startsWith(address(first) + "/"), event.toString());
            }
          }
        }
      }
    }
  }
}
