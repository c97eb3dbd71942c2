package io.sn11.coordinator.dispatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import io.sn11.cluster.node.Roles;
import io.sn11.cluster.node.Sn11Node;
import io.sn11.cluster.scoring.ScoringFingerprint;
import io.sn11.cluster.work.EvaluationWork;
import io.sn11.coordinator.http.ApiNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * One node restarted on the same journal with a gpu-node (a describer only: no work is needed to choose the
 * fingerprint) that scores otherwise each time: following the local gpu-node moves the requirement along and logs
 * the change with the rescore to run; the cluster default keeps the recorded one and warns about the node; a
 * configured fingerprint wins over following.
 */
class DispatcherFollowTest {
  private static final ScoringFingerprint FIRST = ScoringFingerprint.of(Map.of("evaluation.samples", "4", "judge.kind", "demo"));
  private static final ScoringFingerprint CHANGED = ScoringFingerprint.of(Map.of("evaluation.samples", "3", "judge.kind", "demo"));
  private static final String CONFIGURED = ScoringFingerprint.of(Map.of("evaluation.samples", "8")).id();

  @TempDir Path dir;

  private final ListAppender<ILoggingEvent> log = new ListAppender<>();

  @BeforeEach
  void captureTheDispatchersLog() {
    log.start();
    dispatcherLogger().addAppender(log);
  }

  @AfterEach
  void release() {
    dispatcherLogger().detachAppender(log);
  }

  private static Logger dispatcherLogger() {
    return (Logger) LoggerFactory.getLogger(Dispatcher.class);
  }

  /** A gpu-node that only describes itself, with {@code fingerprint}. */
  private static Sn11Node.Role describedGpuNode(ScoringFingerprint fingerprint) {
    return new Sn11Node.Role() {
      @Override
      public String name() {
        return Roles.GPU_NODE;
      }

      @Override
      public void start(ActorSystem<?> system) {
        system.systemActorOf(
            Behaviors.<EvaluationWork.NodeCommand>setup(
                context -> {
                  system.receptionist().tell(Receptionist.register(EvaluationWork.GPU_NODES_KEY, context.getSelf()));
                  return Behaviors.receive(EvaluationWork.NodeCommand.class)
                      .onMessage(EvaluationWork.DescribeNode.class, describe -> {
                        describe.replyTo().tell(new EvaluationWork.NodeDescription(fingerprint, List.of("slot-1")));
                        return Behaviors.same();
                      })
                      .build();
                }),
            "described-gpu-node",
            Props.empty());
      }
    };
  }

  private ApiNode start(Map<String, Object> settings, ScoringFingerprint local) throws Exception {
    Map<String, Object> all = new java.util.HashMap<>(settings);
    all.put("sn11.coordinator.dispatch.poll-interval", "200ms");
    return ApiNode.start(dir, all, List.of(describedGpuNode(local)));
  }

  private static JsonNode requiredOnceKnown(ApiNode node, String id) throws Exception {
    return ApiNode.await(
        "required fingerprint " + id,
        () -> node.get("/scoring/fingerprint").expect(200).body(),
        version -> version.path("required").path("id").asText().equals(id));
  }

  private List<String> lines(Level level) {
    return log.list.stream().filter(e -> e.getLevel() == level).map(ILoggingEvent::getFormattedMessage).toList();
  }

  @Test
  void followingTheLocalGpuNodeMovesTheRequirementAlongTheClusterDefaultKeepsItAndWarnsAndAConfiguredOneWins() throws Exception {
    // On in single-node.conf, which ApiNode loads as serve does; said here for the reader.
    Map<String, Object> follow = Map.of("sn11.coordinator.scoring.follow-local-gpu-node", "on");
    try (ApiNode node = start(follow, FIRST)) {
      assertEquals(1, requiredOnceKnown(node, FIRST.id()).path("history").size());
    }

    try (ApiNode node = start(follow, CHANGED)) {
      JsonNode version = requiredOnceKnown(node, CHANGED.id());
      assertEquals(List.of(FIRST.id(), CHANGED.id()), List.of(version.at("/history/0/id").asText(), version.at("/history/1/id").asText()), version::toString);
      assertEquals("adopted", version.at("/required/chosen").asText(), version::toString);
      String change = ApiNode.await("the change logged", () -> lines(Level.INFO), infos -> infos.stream().anyMatch(l -> l.contains(" is required now instead of "))).stream()
          .filter(l -> l.contains(" is required now instead of ")).findFirst().orElseThrow();
      assertTrue(change.startsWith("scoring fingerprint " + CHANGED.id() + " is required now instead of " + FIRST.id() + ":"), change);
      assertTrue(change.contains("Models scored under " + FIRST.id() + " keep their scores"), change);
      assertTrue(change.contains("POST /admin/rescore {\"fingerprint\": \"" + CHANGED.id() + "\"}"), change);
      assertEquals(List.of(), lines(Level.WARN), "the node scores under the required fingerprint");
    }

    // The cluster default: the recorded fingerprint stays required, and the node that scores otherwise is warned about.
    try (ApiNode node = start(Map.of("sn11.coordinator.scoring.follow-local-gpu-node", "off"), FIRST)) {
      String warning = ApiNode.await("the mismatched node warned about", Duration.ofSeconds(60), () -> lines(Level.WARN), warns -> !warns.isEmpty()).get(0);
      assertTrue(warning.startsWith("gpu-node "), warning);
      assertTrue(warning.contains(" scores under fingerprint " + FIRST.id() + " but " + CHANGED.id() + " is required: it gets no work"), warning);
      assertTrue(warning.endsWith("differs in evaluation.samples: 4 vs required 3"), warning);
      JsonNode version = node.get("/scoring/fingerprint").expect(200).body();
      assertEquals(CHANGED.id(), version.at("/required/id").asText(), version::toString);
      assertEquals(2, version.path("history").size(), version::toString);
    }

    // A configured fingerprint wins over following.
    try (ApiNode node = start(Map.of("sn11.coordinator.scoring.follow-local-gpu-node", "on", "sn11.coordinator.scoring.required-fingerprint", CONFIGURED), FIRST)) {
      JsonNode version = requiredOnceKnown(node, CONFIGURED);
      assertEquals("configured", version.at("/required/chosen").asText(), version::toString);
      assertEquals(3, version.path("history").size(), version::toString);
    }
  }
}
