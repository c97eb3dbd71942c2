package io.sn11.coordinator.evaluation;

import io.sn11.cluster.CborSerializable;
import io.sn11.cluster.domain.ModelDetails;
import io.sn11.cluster.domain.ModelStatus;
import io.sn11.cluster.domain.Scores;
import io.sn11.cluster.node.Roles;
import io.sn11.coordinator.CoordinatorSettings;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * The submissions of one hotkey (entity id: the hotkey), where the one-model-per-window rule is decided.
 * New models of a hotkey pass through here one at a time: the entity decides, persists an acceptance
 * before anyone learns of it, hands the model to its {@link ModelEvaluation} entity and takes the next
 * submission (stashed meanwhile) only once that entity has answered, so no two submissions of a hotkey
 * ever see the same empty window, whichever coordinators they reach.
 *
 * <p>Whether the last accepted model failed is asked of that model's own entity when a submission falls
 * inside its window: the journal's truth at decision time, which no lost message can leave stale. An
 * accepted model whose entity holds nothing never got its submission persisted (a crash between the two
 * writes); it does not exist and holds no window.
 *
 * <p>Models accepted before this entity existed are only on the read side. A hotkey whose journal is
 * empty learns its latest accepted model from there, once, and persists it with its first decision; from
 * then on its journal is the authority. The read side is a moment behind the journal, so a model accepted
 * just before an upgrade that the projection has not caught up with when the hotkey next submits is
 * missed that once; ordinary restarts do not touch the read side again.
 */
public final class HotkeySubmissions
    extends EventSourcedBehaviorWithEnforcedReplies<HotkeySubmissions.Command, HotkeySubmissions.Event, HotkeySubmissions.State> {

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "HotkeySubmissions");

  // ---- protocol -------------------------------------------------------------------------------

  public sealed interface Command extends CborSerializable {}

  /**
   * A model of this hotkey that has no record yet; answers with its record. {@code duplicateOf} names the
   * earlier model of the same repository, if any; {@code enforceWindow} is false for an operator's own
   * queueing; {@code importedResult}, when not null, is a result produced elsewhere that the model is
   * recorded with instead of being queued (an operator's import, never held by the window).
   */
  public record Submit(
      ModelDetails details,
      String duplicateOf,
      boolean enforceWindow,
      ImportedResult importedResult,
      ActorRef<StatusReply<ModelEvaluation.State>> replyTo)
      implements Command {}

  public record ImportedResult(Scores scores, String source) implements CborSerializable {}

  /** The read side's latest accepted model of the hotkey (null: none), or why it could not be read. */
  private record PastRead(Submit submit, AcceptedModel latest, Throwable failure) implements Command {}

  /** The record of the last accepted model, asked for because {@code submit} falls inside its window. */
  private record LastModelRead(Submit submit, AcceptedModel last, List<Event> learned, ModelEvaluation.State record, Throwable failure)
      implements Command {}

  /** The submitted model's entity answered. */
  private record ModelAnswered(Submit submit, ModelEvaluation.State record, Throwable failure) implements Command {}

  public sealed interface Event extends CborSerializable {}

  /** What the read side knew of the hotkey before its first decision here: its latest accepted model (null: none). */
  public record PastLearned(AcceptedModel latestAccepted, Instant at) implements Event {}

  public record ModelAccepted(String hash, long block, Instant at) implements Event {}

  public record AcceptedModel(String hash, long block) implements CborSerializable {}

  /** {@code pastKnown} is false until the first event; {@code lastAccepted} is the latest acceptance (null: none). */
  public record State(boolean pastKnown, AcceptedModel lastAccepted) implements CborSerializable {
    static final State UNKNOWN = new State(false, null);

    State pastLearned(PastLearned e) {
      return new State(true, e.latestAccepted());
    }

    State accepted(ModelAccepted e) {
      return new State(true, new AcceptedModel(e.hash(), e.block()));
    }
  }

  /** What a decision needs from outside the entity. */
  public interface Collaborators {
    /** The hotkey's latest accepted model as the read side has it. */
    CompletionStage<Optional<AcceptedModel>> latestAcceptedOnReadSide(String hotkey);

    /** The model's record from its entity (empty when nobody submitted it). */
    CompletionStage<ModelEvaluation.State> recordOf(String hash);

    /** Submits the model to its entity under {@code admission}; answers its record. */
    CompletionStage<ModelEvaluation.State> submit(ModelDetails details, ModelEvaluation.Admission admission);

    /** Records the model with a result produced elsewhere; answers its record. */
    CompletionStage<ModelEvaluation.State> recordResult(ModelDetails details, ImportedResult result);
  }

  // ---- wiring ---------------------------------------------------------------------------------

  public static void init(ActorSystem<?> system, CoordinatorSettings settings, Collaborators collaborators) {
    ClusterSharding.get(system)
        .init(
            Entity.of(TYPE_KEY, context -> create(context.getEntityId(), settings.windowBlocks(), settings.snapshotEvery(), collaborators))
                .withRole(Roles.COORDINATOR));
  }

  public static Behavior<Command> create(String hotkey, long windowBlocks, int snapshotEvery, Collaborators collaborators) {
    return Behaviors.setup(context -> new HotkeySubmissions(context, hotkey, windowBlocks, snapshotEvery, collaborators));
  }

  private final ActorContext<Command> context;
  private final String hotkey;
  private final long windowBlocks;
  private final int snapshotEvery;
  private final Collaborators collaborators;
  /**
   * A submission is being decided or handed over; the next ones wait in the stash. Not part of the state:
   * a restart loses the reply it owes anyway, and the new incarnation starts with nothing in hand.
   */
  private boolean busy;

  private HotkeySubmissions(ActorContext<Command> context, String hotkey, long windowBlocks, int snapshotEvery, Collaborators collaborators) {
    super(PersistenceId.of(TYPE_KEY.name(), hotkey));
    this.context = context;
    this.hotkey = hotkey;
    this.windowBlocks = windowBlocks;
    this.snapshotEvery = snapshotEvery;
    this.collaborators = collaborators;
  }

  @Override
  public State emptyState() {
    return State.UNKNOWN;
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(snapshotEvery, 2);
  }

  // ---- commands -------------------------------------------------------------------------------

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    return newCommandHandlerWithReplyBuilder()
        .forAnyState()
        .onCommand(Submit.class, this::submit)
        .onCommand(PastRead.class, this::pastRead)
        .onCommand(LastModelRead.class, this::lastModelRead)
        .onCommand(ModelAnswered.class, this::modelAnswered)
        .build();
  }

  private ReplyEffect<Event, State> submit(State state, Submit submit) {
    if (busy) return Effect().stash();
    busy = true;
    if (state.pastKnown()) return decide(submit, state.lastAccepted(), List.of());
    context.pipeToSelf(
        collaborators.latestAcceptedOnReadSide(hotkey), (latest, failure) -> new PastRead(submit, latest == null ? null : latest.orElse(null), failure));
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> pastRead(State state, PastRead read) {
    if (read.failure() != null) return finish(read.submit(), StatusReply.error(cause(read.failure())));
    return decide(read.submit(), read.latest(), List.of(new PastLearned(read.latest(), Instant.now())));
  }

  /** {@code learned}: what this decision learned of the hotkey's past, persisted with its outcome. */
  private ReplyEffect<Event, State> decide(Submit submit, AcceptedModel last, List<Event> learned) {
    ModelDetails details = submit.details();
    boolean outsideTheWindow =
        !submit.enforceWindow() || submit.importedResult() != null || last == null || last.hash().equals(details.hash()) || details.block() >= last.block() + windowBlocks;
    if (outsideTheWindow) return accept(submit, last, learned);
    context.pipeToSelf(collaborators.recordOf(last.hash()), (record, failure) -> new LastModelRead(submit, last, learned, record, failure));
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> lastModelRead(State state, LastModelRead read) {
    if (read.failure() != null) return finish(read.submit(), StatusReply.error(cause(read.failure())));
    if (read.record().isEmpty() || read.record().status() == ModelStatus.FAILED) return accept(read.submit(), read.last(), read.learned());
    String refusal = windowRefusal(read.submit().details(), read.last());
    return handOver(read.submit(), read.learned(), new ModelEvaluation.Admission(refusal, read.submit().duplicateOf()));
  }

  private ReplyEffect<Event, State> accept(Submit submit, AcceptedModel last, List<Event> learned) {
    List<Event> events = new ArrayList<>(learned);
    ModelDetails details = submit.details();
    // The same model again (a retry after a timeout): accepted already, handed over again.
    if (last == null || !last.hash().equals(details.hash())) events.add(new ModelAccepted(details.hash(), details.block(), Instant.now()));
    return handOver(submit, events, new ModelEvaluation.Admission(null, submit.duplicateOf()));
  }

  /** Persists {@code events}, then gives the model to its entity; the answer comes back as {@link ModelAnswered}. */
  private ReplyEffect<Event, State> handOver(Submit submit, List<Event> events, ModelEvaluation.Admission admission) {
    return (events.isEmpty() ? Effect().none() : Effect().persist(events))
        .thenRun(
            persisted ->
                context.pipeToSelf(
                    submit.importedResult() == null
                        ? collaborators.submit(submit.details(), admission)
                        : collaborators.recordResult(submit.details(), submit.importedResult()),
                    (record, failure) -> new ModelAnswered(submit, record, failure)))
        .thenNoReply();
  }

  private ReplyEffect<Event, State> modelAnswered(State state, ModelAnswered answered) {
    return finish(answered.submit(), answered.failure() == null ? StatusReply.success(answered.record()) : StatusReply.error(cause(answered.failure())));
  }

  /** Answers the submission and takes the next one. */
  private ReplyEffect<Event, State> finish(Submit submit, StatusReply<ModelEvaluation.State> reply) {
    busy = false;
    return Effect().reply(submit.replyTo(), reply).thenUnstashAll();
  }

  private static Throwable cause(Throwable failure) {
    return failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
  }

  private String windowRefusal(ModelDetails details, AcceptedModel last) {
    return "hotkey "
        + details.hotkey()
        + " already has model "
        + last.hash()
        + " accepted at block "
        + last.block()
        + "; one model per "
        + windowBlocks
        + " blocks unless the last one failed: the next submission is allowed from block "
        + (last.block() + windowBlocks);
  }

  // ---- events ---------------------------------------------------------------------------------

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onEvent(PastLearned.class, State::pastLearned)
        .onEvent(ModelAccepted.class, State::accepted)
        .build();
  }
}
