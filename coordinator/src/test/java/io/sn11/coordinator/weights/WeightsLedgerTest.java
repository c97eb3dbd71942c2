package io.sn11.coordinator.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sn11.coordinator.testing.EntityTestKits;
import io.sn11.coordinator.weights.WeightsLedger.Command;
import io.sn11.coordinator.weights.WeightsLedger.Event;
import io.sn11.coordinator.weights.WeightsLedger.Fold;
import io.sn11.coordinator.weights.WeightsLedger.Get;
import io.sn11.coordinator.weights.WeightsLedger.State;
import io.sn11.coordinator.weights.WeightsLedger.WeightsFolded;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The moving average against numbers worked by hand: w = 0.9 * w_prev + 0.1 * w_step, starting from 0. */
class WeightsLedgerTest {
  private static final double EPS = 1e-12;
  private static ActorTestKit testKit;

  @BeforeAll
  static void startTestKit() {
    testKit = EntityTestKits.actorTestKit();
  }

  @AfterAll
  static void stopTestKit() {
    testKit.shutdownTestKit();
  }

  private static void assertAverage(Map<Integer, Double> expected, Map<Integer, Double> actual) {
    assertEquals(expected.keySet(), actual.keySet());
    expected.forEach((uid, w) -> assertEquals(w, actual.get(uid), EPS, "uid " + uid));
    assertEquals(List.copyOf(expected.keySet()).stream().sorted().toList(), List.copyOf(actual.keySet()), "sorted by uid");
  }

  @Test
  void foldsOncePerBlockAndDecaysDroppedUids() {
    EventSourcedBehaviorTestKit<Command, Event, State> kit = EntityTestKits.entity(testKit, WeightsLedger.create(100));
    assertEquals(new State(-1, Map.of(), 0), kit.<State>runCommand(Get::new).reply());

    // Block 10, step {1: 0.9, 2: 0.1}: 0.9 * 0 + 0.1 * 0.9 = 0.09 and 0.1 * 0.1 = 0.01.
    var first = kit.<StatusReply<State>>runCommand(r -> new Fold(10, Map.of(1, 0.9, 2, 0.1), 0.1, r));
    WeightsFolded folded = assertInstanceOf(WeightsFolded.class, first.event());
    assertEquals(10, folded.currentBlock());
    assertEquals(Map.of(1, 0.9, 2, 0.1), folded.step());
    assertAverage(Map.of(1, 0.09, 2, 0.01), folded.average());
    State afterFirst = first.reply().getValue();
    assertEquals(10, afterFirst.lastBlock());
    assertEquals(1, afterFirst.steps());
    assertAverage(Map.of(1, 0.09, 2, 0.01), afterFirst.average());
    assertEquals(afterFirst, first.state());

    // The same block again (a retried request) and an older block: no event, the stored average.
    for (long block : new long[] {10, 5}) {
      var again = kit.<StatusReply<State>>runCommand(r -> new Fold(block, Map.of(1, 0.0, 2, 1.0), 0.1, r));
      assertTrue(again.hasNoEvents(), "block " + block);
      assertEquals(afterFirst, again.reply().getValue());
      assertEquals(afterFirst, kit.getState());
    }

    // Block 20, step {1: 0.5, 3: 0.5}; uid 2 dropped out of the step:
    // uid 1: 0.9 * 0.09 + 0.1 * 0.5 = 0.131; uid 2: 0.9 * 0.01 = 0.009; uid 3: 0.1 * 0.5 = 0.05.
    var second = kit.<StatusReply<State>>runCommand(r -> new Fold(20, Map.of(1, 0.5, 3, 0.5), 0.1, r));
    WeightsFolded next = assertInstanceOf(WeightsFolded.class, second.event());
    assertEquals(20, next.currentBlock());
    Map<Integer, Double> expected = Map.of(1, 0.131, 2, 0.009, 3, 0.05);
    assertAverage(expected, next.average());
    State afterSecond = second.reply().getValue();
    assertEquals(20, afterSecond.lastBlock());
    assertEquals(2, afterSecond.steps());
    assertAverage(expected, afterSecond.average());

    // Block 30 without uid 2 again: it keeps decaying, 0.9 * 0.009 = 0.0081.
    var third = kit.<StatusReply<State>>runCommand(r -> new Fold(30, Map.of(1, 0.5, 3, 0.5), 0.1, r));
    assertEquals(0.0081, third.reply().getValue().average().get(2), EPS);

    State latest = kit.getState();
    assertEquals(latest, kit.restart().state());
    assertEquals(latest, kit.<State>runCommand(Get::new).reply());
  }
}
