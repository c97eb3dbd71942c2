package io.sn11.coordinator.weights;

import io.sn11.cluster.CborSerializable;
import io.sn11.cluster.scoring.MovingAverage;
import io.sn11.coordinator.CoordinatorSettings;
import io.sn11.cluster.node.Roles;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * The persisted moving average of the weights. An admin's fold or the node's schedule folds a block's
 * weight vector in once: a fold at the same (or an older) block answers the stored average unchanged, so
 * a retried fold never folds twice and the average never goes back.
 */
public final class WeightsLedger
    extends EventSourcedBehaviorWithEnforcedReplies<WeightsLedger.Command, WeightsLedger.Event, WeightsLedger.State> {

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "WeightsLedger");
  /** There is one ledger; sharding places it on some coordinator and moves it when that node leaves. */
  public static final String LEDGER_ID = "ema";
  public static final PersistenceId PERSISTENCE_ID = PersistenceId.of(TYPE_KEY.name(), LEDGER_ID);

  public sealed interface Command extends CborSerializable {}

  public record Fold(long currentBlock, Map<Integer, Double> step, double newWeight, ActorRef<StatusReply<State>> replyTo)
      implements Command {}

  public record Get(ActorRef<State> replyTo) implements Command {}

  public sealed interface Event extends CborSerializable {}

  public record WeightsFolded(long currentBlock, Map<Integer, Double> step, Map<Integer, Double> average, Instant at) implements Event {}

  /** {@code lastBlock == -1}: no step folded yet. */
  public record State(long lastBlock, Map<Integer, Double> average, long steps) implements CborSerializable {
    static final State INITIAL = new State(-1, Map.of(), 0);

    State folded(WeightsFolded e) {
      return new State(e.currentBlock(), new TreeMap<>(e.average()), steps + 1);
    }
  }

  public static void init(ActorSystem<?> system, CoordinatorSettings settings) {
    ClusterSharding.get(system).init(Entity.of(TYPE_KEY, context -> create(settings.snapshotEvery())).withRole(Roles.COORDINATOR));
  }

  public static Behavior<Command> create(int snapshotEvery) {
    return new WeightsLedger(snapshotEvery);
  }

  private final int snapshotEvery;

  private WeightsLedger(int snapshotEvery) {
    super(PERSISTENCE_ID);
    this.snapshotEvery = snapshotEvery;
  }

  @Override
  public State emptyState() {
    return State.INITIAL;
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(snapshotEvery, 2);
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    return newCommandHandlerWithReplyBuilder()
        .forAnyState()
        .onCommand(Get.class, (state, cmd) -> Effect().reply(cmd.replyTo(), state))
        .onCommand(
            Fold.class,
            (state, cmd) -> {
              if (cmd.currentBlock() <= state.lastBlock()) return Effect().reply(cmd.replyTo(), StatusReply.success(state));
              Map<Integer, Double> average = MovingAverage.fold(state.average(), cmd.step(), cmd.newWeight());
              return Effect()
                  .persist(new WeightsFolded(cmd.currentBlock(), new TreeMap<>(cmd.step()), average, Instant.now()))
                  .thenReply(cmd.replyTo(), StatusReply::success);
            })
        .build();
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onEvent(WeightsFolded.class, State::folded).build();
  }
}
