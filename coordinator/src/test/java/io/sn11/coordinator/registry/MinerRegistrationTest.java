package io.sn11.coordinator.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sn11.coordinator.registry.MinerRegistration.Command;
import io.sn11.coordinator.registry.MinerRegistration.Event;
import io.sn11.coordinator.registry.MinerRegistration.Get;
import io.sn11.coordinator.registry.MinerRegistration.MinerUpdated;
import io.sn11.coordinator.registry.MinerRegistration.State;
import io.sn11.coordinator.registry.MinerRegistration.Update;
import io.sn11.coordinator.testing.EntityTestKits;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class MinerRegistrationTest {
  private static ActorTestKit testKit;

  @BeforeAll
  static void startTestKit() {
    testKit = EntityTestKits.actorTestKit();
  }

  @AfterAll
  static void stopTestKit() {
    testKit.shutdownTestKit();
  }

  private static EventSourcedBehaviorTestKit<Command, Event, State> registration(int uid) {
    return EntityTestKits.entity(testKit, MinerRegistration.create(uid, 100, 4));
  }

  @Test
  void anUnregisteredUidHasNoModel() {
    var kit = registration(3);
    var result = kit.<State>runCommand(Get::new);
    assertTrue(result.hasNoEvents());
    assertEquals(new State(3, null, null, 0, null), result.reply());
  }

  @Test
  void updateRecordsTheCommitmentAndTheSameUpdateAgainPersistsNothing() {
    var kit = registration(7);
    var first = kit.<StatusReply<State>>runCommand(r -> new Update("1111", "5HotA", 100, r));
    MinerUpdated event = assertInstanceOf(MinerUpdated.class, first.event());
    assertEquals(new MinerUpdated(7, "1111", "5HotA", 100, event.at()), event);
    State registered = new State(7, "1111", "5HotA", 100, event.at());
    assertEquals(registered, first.reply().getValue());
    assertEquals(registered, first.state());

    // The validators repeat the same update every round.
    var repeated = kit.<StatusReply<State>>runCommand(r -> new Update("1111", "5HotA", 100, r));
    assertTrue(repeated.hasNoEvents());
    assertEquals(registered, repeated.reply().getValue());

    // A new commitment (another block, hash or hotkey) is an event again.
    var newBlock = kit.<StatusReply<State>>runCommand(r -> new Update("1111", "5HotA", 120, r));
    assertEquals(new MinerUpdated(7, "1111", "5HotA", 120, newBlock.eventOfType(MinerUpdated.class).at()), newBlock.event());
    var newHotkey = kit.<StatusReply<State>>runCommand(r -> new Update("1111", "5HotB", 120, r));
    assertEquals(new MinerUpdated(7, "1111", "5HotB", 120, newHotkey.eventOfType(MinerUpdated.class).at()), newHotkey.event());
    var newHash = kit.<StatusReply<State>>runCommand(r -> new Update("2222", "5HotB", 120, r));
    State latest = new State(7, "2222", "5HotB", 120, newHash.eventOfType(MinerUpdated.class).at());
    assertEquals(latest, newHash.reply().getValue());
    assertEquals(latest, kit.<State>runCommand(Get::new).reply());

    assertEquals(latest, kit.restart().state());
  }
}
