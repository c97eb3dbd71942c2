package io.sn11.coordinator.dispatch;

import io.sn11.cluster.CborSerializable;
import io.sn11.cluster.node.Roles;
import io.sn11.cluster.scoring.ScoringFingerprint;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;

/**
 * Which scoring fingerprint evaluations must be scored under, and since when: the journal's record of it, one entity
 * for the cluster. The first fingerprint a gpu-node announces is adopted when none is configured nor recorded; a
 * configured one that differs from the recorded one is recorded too, and so is the fingerprint of the gpu-node on the
 * dispatcher's own node when the dispatcher follows it ({@code follow-local-gpu-node}). So the required fingerprint
 * survives restarts, and the history says which was required when.
 */
public final class ScoringVersion
    extends EventSourcedBehaviorWithEnforcedReplies<ScoringVersion.Command, ScoringVersion.Event, ScoringVersion.State> {

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "ScoringVersion");

  /** The one entity's id. */
  static final String ENTITY_ID = "required";

  public sealed interface Command extends CborSerializable {
    ActorRef<State> replyTo();
  }

  /** The dispatcher starts with it: records {@code configured} (null: none) when it is not what is required already. */
  public record Configure(String configured, ActorRef<State> replyTo) implements Command {}

  /** A gpu-node's fingerprint, adopted when nothing is required yet; answered with what is required either way. */
  public record Adopt(ScoringFingerprint fingerprint, String node, ActorRef<State> replyTo) implements Command {}

  /**
   * The fingerprint of the gpu-node on the dispatcher's own node, required from now on: recorded (as adopted from
   * {@code node}) when it is not the one required already.
   */
  public record Follow(ScoringFingerprint fingerprint, String node, ActorRef<State> replyTo) implements Command {}

  public record Get(ActorRef<State> replyTo) implements Command {}

  public sealed interface Event extends CborSerializable {
    Instant at();
  }

  public record RequiredFingerprintAdopted(String id, SortedMap<String, String> components, String node, Instant at) implements Event {}

  public record RequiredFingerprintConfigured(String id, Instant at) implements Event {}

  /**
   * One required fingerprint and since when.
   *
   * @param components null when only its id is known (configured)
   * @param node the gpu-node it was adopted from; null when configured
   */
  public record Requirement(String id, SortedMap<String, String> components, String node, Instant since) implements CborSerializable {
    public Requirement {
      components = components == null ? null : Collections.unmodifiableSortedMap(new TreeMap<>(components));
    }
  }

  /** Every fingerprint required so far, oldest first; the last is the one required now. */
  public record State(List<Requirement> history) implements CborSerializable {
    public static final State EMPTY = new State(List.of());

    public State {
      history = List.copyOf(history);
    }

    /** The fingerprint required now; null when none is yet. */
    public Requirement required() {
      return history.isEmpty() ? null : history.get(history.size() - 1);
    }

    public String requiredId() {
      return history.isEmpty() ? null : required().id();
    }

    State with(Requirement requirement) {
      List<Requirement> longer = new ArrayList<>(history);
      longer.add(requirement);
      return new State(longer);
    }
  }

  public static void init(ActorSystem<?> system) {
    ClusterSharding.get(system).init(Entity.of(TYPE_KEY, context -> create()).withRole(Roles.COORDINATOR));
  }

  /** The one entity, from anywhere in the cluster. */
  public static EntityRef<Command> entity(ActorSystem<?> system) {
    return ClusterSharding.get(system).entityRefFor(TYPE_KEY, ENTITY_ID);
  }

  public static Behavior<Command> create() {
    return new ScoringVersion();
  }

  private ScoringVersion() {
    super(PersistenceId.of(TYPE_KEY.name(), ENTITY_ID));
  }

  @Override
  public State emptyState() {
    return State.EMPTY;
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    return newCommandHandlerWithReplyBuilder()
        .forAnyState()
        .onCommand(Configure.class, this::configure)
        .onCommand(Adopt.class, this::adopt)
        .onCommand(Follow.class, this::follow)
        .onCommand(Get.class, (state, cmd) -> Effect().reply(cmd.replyTo(), state))
        .build();
  }

  private ReplyEffect<Event, State> configure(State state, Configure cmd) {
    if (cmd.configured() == null || cmd.configured().equals(state.requiredId())) return Effect().reply(cmd.replyTo(), state);
    return Effect().persist(new RequiredFingerprintConfigured(cmd.configured(), Instant.now())).thenReply(cmd.replyTo(), s -> s);
  }

  private ReplyEffect<Event, State> adopt(State state, Adopt cmd) {
    if (state.required() != null) return Effect().reply(cmd.replyTo(), state);
    return adopted(cmd.fingerprint(), cmd.node(), cmd.replyTo());
  }

  private ReplyEffect<Event, State> follow(State state, Follow cmd) {
    if (cmd.fingerprint().id().equals(state.requiredId())) return Effect().reply(cmd.replyTo(), state);
    return adopted(cmd.fingerprint(), cmd.node(), cmd.replyTo());
  }

  private ReplyEffect<Event, State> adopted(ScoringFingerprint fingerprint, String node, ActorRef<State> replyTo) {
    return Effect()
        .persist(new RequiredFingerprintAdopted(fingerprint.id(), fingerprint.components(), node, Instant.now()))
        .thenReply(replyTo, s -> s);
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onEvent(RequiredFingerprintAdopted.class, (state, e) -> state.with(new Requirement(e.id(), e.components(), e.node(), e.at())))
        .onEvent(RequiredFingerprintConfigured.class, (state, e) -> state.with(new Requirement(e.id(), null, null, e.at())))
        .build();
  }
}
