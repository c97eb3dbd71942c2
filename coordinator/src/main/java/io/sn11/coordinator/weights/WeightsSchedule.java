package io.sn11.coordinator.weights;

import io.sn11.cluster.node.Roles;
import java.time.Duration;
import java.util.Optional;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.ClusterSingletonSettings;
import org.apache.pekko.cluster.typed.SingletonActor;

/**
 * The node's own fold schedule: every interval it folds the chain's current block as this node knows it,
 * unless that block is folded already. One per cluster (a singleton on the coordinator role), so nodes
 * never race each other's folds; the next fold starts an interval after the previous one ended, and a
 * fold that fails is logged and tried again then, unless the node is shutting down.
 */
public final class WeightsSchedule {
  interface Command {}

  private enum Tick implements Command {
    INSTANCE
  }

  private record Ended(Optional<WeightsService.Result> folded, Throwable failure) implements Command {}

  private WeightsSchedule() {}

  /** Starts the singleton when {@code interval} is not zero. */
  public static void init(ActorSystem<?> system, Duration interval, WeightsService weights) {
    if (interval.isZero()) return;
    Behavior<Command> behavior = Behaviors.supervise(create(interval, weights)).onFailure(SupervisorStrategy.restart());
    ClusterSingleton.get(system)
        .init(
            SingletonActor.of(behavior, "weights-schedule")
                .withSettings(ClusterSingletonSettings.create(system).withRole(Roles.COORDINATOR)));
  }

  static Behavior<Command> create(Duration interval, WeightsService weights) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers -> {
                  timers.startSingleTimer(Tick.INSTANCE, interval);
                  return Behaviors.receive(Command.class)
                      .onMessageEquals(
                          Tick.INSTANCE,
                          () -> {
                            context.pipeToSelf(weights.foldChainBlock(), Ended::new);
                            return Behaviors.same();
                          })
                      .onMessage(
                          Ended.class,
                          ended -> {
                            // A node that shuts down stops its shard regions before handing the singleton over.
                            if (CoordinatedShutdown.get(context.getSystem()).getShutdownReason().isPresent()) return Behaviors.same();
                            if (ended.failure() != null) {
                              context.getLog().warn("the scheduled weights fold failed; next try in {}: {}", interval, ended.failure().toString());
                            } else {
                              ended.folded().ifPresent(r -> context.getLog().info("weights folded at block {} (schedule)", r.currentBlock()));
                            }
                            timers.startSingleTimer(Tick.INSTANCE, interval);
                            return Behaviors.same();
                          })
                      .build();
                }));
  }
}
