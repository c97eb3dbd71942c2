package io.sn11.coordinator.dispatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sn11.cluster.scoring.ScoringFingerprint;
import io.sn11.coordinator.dispatch.ScoringVersion.Adopt;
import io.sn11.coordinator.dispatch.ScoringVersion.Command;
import io.sn11.coordinator.dispatch.ScoringVersion.Configure;
import io.sn11.coordinator.dispatch.ScoringVersion.Event;
import io.sn11.coordinator.dispatch.ScoringVersion.Follow;
import io.sn11.coordinator.dispatch.ScoringVersion.Get;
import io.sn11.coordinator.dispatch.ScoringVersion.RequiredFingerprintAdopted;
import io.sn11.coordinator.dispatch.ScoringVersion.RequiredFingerprintConfigured;
import io.sn11.coordinator.dispatch.ScoringVersion.State;
import io.sn11.coordinator.testing.EntityTestKits;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ScoringVersionTest {
  private static final ScoringFingerprint FIRST = ScoringFingerprint.of(Map.of("evaluation.samples", "4", "backend", "cpu"));
  private static final ScoringFingerprint OTHER = ScoringFingerprint.of(Map.of("evaluation.samples", "16", "backend", "cpu"));

  private static ActorTestKit testKit;
  private EventSourcedBehaviorTestKit<Command, Event, State> kit;

  @BeforeAll
  static void startTestKit() {
    testKit = EntityTestKits.actorTestKit();
  }

  @AfterAll
  static void stopTestKit() {
    testKit.shutdownTestKit();
  }

  /** One persistence id for the cluster: each test starts from an empty journal. */
  @BeforeEach
  void emptyJournal() {
    kit = EntityTestKits.entity(testKit, ScoringVersion.create());
    kit.clear();
  }

  @Test
  void nothingIsRequiredUntilANodeIsAdoptedOrOneIsConfigured() {
    var result = kit.<State>runCommand(replyTo -> new Configure(null, replyTo));
    assertTrue(result.hasNoEvents());
    assertNull(result.reply().required());
    assertNull(result.reply().requiredId());
  }

  @Test
  void theFirstNodesFingerprintIsAdoptedRecordedAndStaysRequiredAfterARestart() {
    var adopted = kit.<State>runCommand(replyTo -> new Adopt(FIRST, "10.0.0.1:25520", replyTo));
    RequiredFingerprintAdopted event = assertInstanceOf(RequiredFingerprintAdopted.class, adopted.event());
    assertEquals(new RequiredFingerprintAdopted(FIRST.id(), FIRST.components(), "10.0.0.1:25520", event.at()), event);
    assertEquals(FIRST.id(), adopted.reply().requiredId());

    var another = kit.<State>runCommand(replyTo -> new Adopt(OTHER, "10.0.0.2:25520", replyTo));
    assertTrue(another.hasNoEvents(), "a later node's fingerprint is not adopted");
    assertEquals(FIRST.id(), another.reply().requiredId());

    kit.restart();
    // After the restart, another kind of node may announce itself first: the recorded one stays required.
    var afterRestart = kit.<State>runCommand(replyTo -> new Adopt(OTHER, "10.0.0.2:25520", replyTo));
    assertTrue(afterRestart.hasNoEvents());
    assertEquals(FIRST.id(), afterRestart.reply().requiredId());
    assertEquals(FIRST.components(), afterRestart.reply().required().components());
    assertEquals("10.0.0.1:25520", afterRestart.reply().required().node());
  }

  @Test
  void aConfiguredFingerprintThatDiffersIsRecordedSoTheHistorySaysWhichWasRequiredWhen() {
    kit.<State>runCommand(replyTo -> new Adopt(FIRST, "10.0.0.1:25520", replyTo));
    var configured = kit.<State>runCommand(replyTo -> new Configure(OTHER.id(), replyTo));
    RequiredFingerprintConfigured event = assertInstanceOf(RequiredFingerprintConfigured.class, configured.event());
    assertEquals(OTHER.id(), event.id());
    assertEquals(OTHER.id(), configured.reply().requiredId());
    assertNull(configured.reply().required().components(), "configured by id alone");

    assertTrue(kit.<State>runCommand(replyTo -> new Configure(OTHER.id(), replyTo)).hasNoEvents(), "the same again is nothing new");
    assertTrue(kit.<State>runCommand(replyTo -> new Configure(null, replyTo)).hasNoEvents(), "none configured keeps the recorded one");

    kit.restart();
    State state = kit.<State>runCommand(Get::new).reply();
    assertEquals(List.of(FIRST.id(), OTHER.id()), state.history().stream().map(ScoringVersion.Requirement::id).toList());
    assertEquals(OTHER.id(), state.requiredId());
  }

  @Test
  void theLocalNodesFingerprintIsRecordedEachTimeItDiffersFromTheRequiredOne() {
    var first = kit.<State>runCommand(replyTo -> new Follow(FIRST, "127.0.0.1:25520", replyTo));
    assertEquals(new RequiredFingerprintAdopted(FIRST.id(), FIRST.components(), "127.0.0.1:25520", first.event().at()), first.event());

    kit.restart();
    assertTrue(kit.<State>runCommand(replyTo -> new Follow(FIRST, "127.0.0.1:25520", replyTo)).hasNoEvents(), "the same node again is nothing new");

    // Restarted with a setting that shapes scores: unlike Adopt, Follow moves the requirement along.
    var changed = kit.<State>runCommand(replyTo -> new Follow(OTHER, "127.0.0.1:25521", replyTo));
    assertEquals(new RequiredFingerprintAdopted(OTHER.id(), OTHER.components(), "127.0.0.1:25521", changed.event().at()), changed.event());
    assertEquals(OTHER.id(), changed.reply().requiredId());

    kit.restart();
    State state = kit.<State>runCommand(Get::new).reply();
    assertEquals(List.of(FIRST.id(), OTHER.id()), state.history().stream().map(ScoringVersion.Requirement::id).toList());
    assertTrue(!state.history().get(1).since().isBefore(state.history().get(0).since()), "each change with its time: " + state);
  }
}
