package io.sn11.coordinator.http;

import static io.sn11.coordinator.http.ApiNode.JSON;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pekko Management on a coordinator node: readiness, liveness and cluster membership over HTTP. */
class ManagementEndpointsTest {
  @TempDir static Path dataDir;
  static ApiNode api;
  static URI management;
  static final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  @BeforeAll
  static void startNode() throws Exception {
    api = ApiNode.start(dataDir);
    // single-node.conf asks for a free port: the node reports the one it bound.
    management = URI.create(api.node().managementUri().toString());
  }

  @AfterAll
  static void stopNode() throws Exception {
    api.close();
  }

  @Test
  void readyOnceTheNodeIsUpWithItsDatabase() throws Exception {
    ApiNode.await("/ready answers 200", () -> get("/ready").statusCode(), status -> status == 200);
  }

  @Test
  void alive() throws Exception {
    assertEquals(200, get("/alive").statusCode());
  }

  @Test
  void membershipListsTheNodeWithItsRoles() throws Exception {
    JsonNode members =
        ApiNode.await(
            "the node Up in /cluster/members",
            () -> JSON.readTree(get("/cluster/members").body()).path("members"),
            list -> list.size() == 1 && "Up".equals(list.get(0).path("status").asText()));
    JsonNode self = members.get(0);
    assertEquals(Cluster.get(api.node().system()).selfMember().address().toString(), self.path("node").asText());
    List<String> roles = new ArrayList<>();
    self.path("roles").forEach(role -> roles.add(role.asText()));
    assertTrue(roles.contains("coordinator"), "roles " + roles);
  }

  private static HttpResponse<String> get(String path) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(management.resolve(path)).timeout(Duration.ofSeconds(30)).GET().build();
    return client.send(request, HttpResponse.BodyHandlers.ofString());
  }
}
