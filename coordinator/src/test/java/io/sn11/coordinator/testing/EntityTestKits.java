package io.sn11.coordinator.testing;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;

/**
 * An ActorTestKit for event-sourced entity tests: the persistence testkit's in-memory journal and
 * snapshot store, plus the serialization bindings every node runs with (taken from the packaged
 * sn11/defaults/cluster.conf, not restated), so the testkit's serialization round trip of commands,
 * events and state runs through the same Jackson CBOR setup as production.
 */
public final class EntityTestKits {
  private EntityTestKits() {}

  public static ActorTestKit actorTestKit() {
    Config cluster = ConfigFactory.parseResources("sn11/defaults/cluster.conf");
    if (cluster.isEmpty()) throw new IllegalStateException("sn11/defaults/cluster.conf is not on the test classpath");
    Config serialization =
        cluster.withOnlyPath("pekko.actor.serialization-bindings").withFallback(cluster.withOnlyPath("pekko.serialization"));
    return ActorTestKit.create(ConfigFactory.load(EventSourcedBehaviorTestKit.config().withFallback(serialization)));
  }

  /** Serialization checked for commands, events and state, and each must equal itself after the round trip. */
  public static <C, E, S> EventSourcedBehaviorTestKit<C, E, S> entity(ActorTestKit testKit, Behavior<C> behavior) {
    return EventSourcedBehaviorTestKit.create(
        testKit.system(), behavior, EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyEquality(true));
  }
}
