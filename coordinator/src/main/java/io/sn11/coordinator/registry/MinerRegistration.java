package io.sn11.coordinator.registry;

import io.sn11.cluster.CborSerializable;
import io.sn11.coordinator.CoordinatorSettings;
import io.sn11.cluster.node.Roles;
import io.sn11.coordinator.readside.ReadSideTags;
import java.time.Instant;
import java.util.Set;
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
 * The miner registry entry of one uid: which hotkey holds the uid and which model (hash, block) it
 * committed on chain. The minerboard and the win rates read these entries through the read side.
 */
public final class MinerRegistration
    extends EventSourcedBehaviorWithEnforcedReplies<MinerRegistration.Command, MinerRegistration.Event, MinerRegistration.State> {

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "MinerRegistration");

  public sealed interface Command extends CborSerializable {}

  public record Update(String hash, String hotkey, long block, ActorRef<StatusReply<State>> replyTo) implements Command {}

  public record Get(ActorRef<State> replyTo) implements Command {}

  public sealed interface Event extends CborSerializable {}

  public record MinerUpdated(int uid, String hash, String hotkey, long block, Instant at) implements Event {}

  /** {@code hash == null}: nothing registered for this uid. */
  public record State(int uid, String hash, String hotkey, long block, Instant updatedAt) implements CborSerializable {
    State updated(MinerUpdated e) {
      return new State(e.uid(), e.hash(), e.hotkey(), e.block(), e.at());
    }

    boolean sameAs(Update update) {
      return update.hash().equals(hash) && update.hotkey().equals(hotkey) && update.block() == block;
    }
  }

  public static void init(ActorSystem<?> system, CoordinatorSettings settings) {
    ClusterSharding.get(system)
        .init(
            Entity.of(
                    TYPE_KEY,
                    context -> create(Integer.parseInt(context.getEntityId()), settings.snapshotEvery(), settings.projectionParallelism()))
                .withRole(Roles.COORDINATOR));
  }

  public static Behavior<Command> create(int uid, int snapshotEvery, int tagCount) {
    return new MinerRegistration(uid, snapshotEvery, tagCount);
  }

  private final int uid;
  private final int snapshotEvery;
  private final int tagCount;

  private MinerRegistration(int uid, int snapshotEvery, int tagCount) {
    super(PersistenceId.of(TYPE_KEY.name(), Integer.toString(uid)));
    this.uid = uid;
    this.snapshotEvery = snapshotEvery;
    this.tagCount = tagCount;
  }

  @Override
  public State emptyState() {
    return new State(uid, null, null, 0, null);
  }

  @Override
  public Set<String> tagsFor(Event event) {
    return Set.of(ReadSideTags.tagFor("uid-" + uid, tagCount));
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
            Update.class,
            (state, cmd) ->
                state.sameAs(cmd)
                    // The validators repeat the same update every round: no event for no change.
                    ? Effect().reply(cmd.replyTo(), StatusReply.success(state))
                    : Effect()
                        .persist(new MinerUpdated(uid, cmd.hash(), cmd.hotkey(), cmd.block(), Instant.now()))
                        .thenReply(cmd.replyTo(), StatusReply::success))
        .build();
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onEvent(MinerUpdated.class, State::updated).build();
  }
}
