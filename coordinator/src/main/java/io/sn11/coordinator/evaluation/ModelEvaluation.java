package io.sn11.coordinator.evaluation;

import io.sn11.cluster.CborSerializable;
import io.sn11.cluster.domain.EvaluationInfo;
import io.sn11.cluster.domain.Failure;
import io.sn11.cluster.domain.FailureCategory;
import io.sn11.cluster.domain.ModelDetails;
import io.sn11.cluster.domain.ModelStatus;
import io.sn11.cluster.domain.Scores;
import io.sn11.cluster.domain.VerdictRecord;
import io.sn11.coordinator.CoordinatorSettings;
import io.sn11.cluster.node.Roles;
import io.sn11.coordinator.readside.ReadSideTags;
import java.time.Instant;
import java.util.List;
import java.util.Map;
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
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReplyBuilder;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * One submitted model, identified by its model hash: its details, where its evaluation stands, and its
 * scores. Every change is a persisted event; the journal is the truth that the read side and every HTTP
 * answer derive from. Results carry the attempt they belong to, so a late result of an abandoned attempt
 * is ignored rather than applied twice.
 *
 * <p>A rescore re-evaluates a COMPLETED model while it stays COMPLETED with its current score: the pending
 * rescore (its own status QUEUED, PRECHECK or RUNNING in {@link State#rescore()}) runs attempts as a queued model
 * does, and only its completion replaces the score. A rescore that fails for good leaves the score as it was
 * and is recorded as FAILED in {@link State#rescore()}.
 */
public final class ModelEvaluation
    extends EventSourcedBehaviorWithEnforcedReplies<ModelEvaluation.Command, ModelEvaluation.Event, ModelEvaluation.State> {

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "ModelEvaluation");

  // ---- protocol -------------------------------------------------------------------------------

  /** Every command answers with the model's state after it, or an error saying why it was refused. */
  public sealed interface Command extends CborSerializable {
    ActorRef<StatusReply<State>> replyTo();
  }

  /**
   * A submission. {@code admission} is the coordinator's decision under the submission rules; a model
   * that exists already answers with its record unchanged.
   */
  public record Submit(ModelDetails details, Admission admission, ActorRef<StatusReply<State>> replyTo) implements Command {}

  public record Get(ActorRef<StatusReply<State>> replyTo) implements Command {}

  /** Queue the model again (re-evaluation, or an abandoned attempt); its last scores stay visible meanwhile. */
  public record Requeue(String reason, ActorRef<StatusReply<State>> replyTo) implements Command {}

  /**
   * Evaluate a COMPLETED model again, keeping its score current until the new one completes, unless its score
   * was produced under {@code fingerprint} already ({@link #ALL_FINGERPRINTS}: whatever produced it) or a rescore
   * is pending. {@code request} names the request, so the caller can tell from the answer whether this command
   * queued it ({@link State#rescoredBy}). Any other model answers unchanged.
   */
  public record Rescore(String fingerprint, String reason, String request, ActorRef<StatusReply<State>> replyTo) implements Command {}

  /** The fingerprint argument of {@link Rescore} that rescores every completed model. */
  public static final String ALL_FINGERPRINTS = "all";

  /** A worker takes a queued model: PRECHECK under a new attempt number. */
  public record Claim(String worker, ActorRef<StatusReply<State>> replyTo) implements Command {}

  /**
   * The dispatcher refused a worker's claim (it scores under another fingerprint): recorded while the model is queued,
   * which it stays.
   */
  public record RefuseClaim(String worker, String reason, ActorRef<StatusReply<State>> replyTo) implements Command {}

  public record StartRunning(int attempt, ActorRef<StatusReply<State>> replyTo) implements Command {}

  public record ReportProgress(int attempt, String phase, double fraction, ActorRef<StatusReply<State>> replyTo)
      implements Command {}

  /** The attempt's scores, what produced them, and the judge's verdicts (stored, not kept in the state). */
  public record Complete(
      int attempt, Scores scores, Map<String, String> evaluationInfo, List<VerdictRecord> verdicts, ActorRef<StatusReply<State>> replyTo)
      implements Command {}

  public record Fail(int attempt, Failure failure, ActorRef<StatusReply<State>> replyTo) implements Command {}

  /** A result produced elsewhere (an imported leaderboard, a post-evaluation multiplier), recorded with its source. */
  public record RecordResult(ModelDetails details, Scores scores, String source, ActorRef<StatusReply<State>> replyTo)
      implements Command {}

  /** The outcome of the submission rules: refused (recorded FAILED) and/or a duplicate of an earlier model. */
  public record Admission(String refusal, String duplicateOf) implements CborSerializable {
    public static final Admission ACCEPTED = new Admission(null, null);
  }

  public sealed interface Event extends CborSerializable {
    Instant at();
  }

  public record Submitted(ModelDetails details, String duplicateOf, Instant at) implements Event {}

  public record SubmissionRefused(String reason, Instant at) implements Event {}

  public record Requeued(String reason, Instant at) implements Event {}

  /** A rescore of a completed model (see {@link Rescore}); {@code request} names the request that asked for it. */
  public record RescoreRequested(String fingerprint, String reason, String request, Instant at) implements Event {}

  public record PrecheckStarted(int attempt, String worker, Instant at) implements Event {}

  public record RunningStarted(int attempt, Instant at) implements Event {}

  /** A claim refused by the dispatcher; the model stays queued. */
  public record ClaimRefused(String worker, String reason, Instant at) implements Event {}

  public record ProgressReported(int attempt, String phase, double fraction, Instant at) implements Event {}

  public record EvaluationCompleted(int attempt, Scores scores, String source, Map<String, String> evaluationInfo, Instant at)
      implements Event {}

  public record EvaluationFailed(int attempt, Failure failure, Instant at) implements Event {}

  /** Every judged sample of an attempt; read over HTTP from the read side, never needed by the entity itself. */
  public record VerdictsRecorded(int attempt, List<VerdictRecord> verdicts, Instant at) implements Event {}

  public record Progress(String phase, double fraction) implements CborSerializable {}

  /**
   * A rescore of a COMPLETED model: its status (QUEUED, PRECHECK, RUNNING while pending; FAILED when it failed
   * for good, kept until the next rescore or evaluation), the fingerprint it was requested for, and the model's
   * attempt number when it was requested (its attempts are counted from there).
   */
  public record PendingRescore(
      ModelStatus status, String fingerprint, String reason, String request, int sinceAttempt, Failure failure, Instant requestedAt)
      implements CborSerializable {
    public boolean isPending() {
      return !status.isFinal();
    }

    PendingRescore withStatus(ModelStatus newStatus) {
      return new PendingRescore(newStatus, fingerprint, reason, request, sinceAttempt, null, requestedAt);
    }

    PendingRescore failed(Failure why) {
      return new PendingRescore(ModelStatus.FAILED, fingerprint, reason, request, sinceAttempt, why, requestedAt);
    }
  }

  /** Where the model stands. {@code status == null} means nobody submitted this hash. */
  public record State(
      ModelDetails details,
      ModelStatus status,
      int attempt,
      String worker,
      Scores scores,
      String scoreSource,
      Failure failure,
      Progress progress,
      String duplicateOf,
      Map<String, String> evaluationInfo,
      Instant submittedAt,
      Instant updatedAt,
      PendingRescore rescore)
      implements CborSerializable {

    public static final State EMPTY = new State(null, null, 0, null, Scores.NONE, null, null, null, null, Map.of(), null, null, null);

    public boolean isEmpty() {
      return status == null;
    }

    public boolean rescorePending() {
      return rescore != null && rescore.isPending();
    }

    /** Where the current attempt stands: the pending rescore's status, else the model's. */
    public ModelStatus attemptStatus() {
      return rescorePending() ? rescore.status() : status;
    }

    /** The fingerprint the current score was produced under; null when none was reported. */
    public String scoringFingerprint() {
      return evaluationInfo.get(EvaluationInfo.SCORING_FINGERPRINT);
    }

    /** Whether the request named {@code request} queued the pending rescore. */
    public boolean rescoredBy(String request) {
      return rescorePending() && request.equals(rescore.request());
    }

    boolean is(ModelStatus candidate) {
      return attemptStatus() == candidate;
    }

    /** The same state with a new status and rescore. */
    private State with(ModelStatus newStatus, PendingRescore newRescore, Instant at) {
      return new State(
          details, newStatus, attempt, worker, scores, scoreSource, failure, progress, duplicateOf, evaluationInfo, submittedAt, at, newRescore);
    }

    State submitted(Submitted e) {
      return new State(e.details(), ModelStatus.QUEUED, 0, null, Scores.NONE, null, null, null, e.duplicateOf(), Map.of(), e.at(), e.at(), null);
    }

    State refused(SubmissionRefused e) {
      return failed(new EvaluationFailed(attempt, new Failure(e.reason(), FailureCategory.MINER), e.at()));
    }

    /** A pending rescore goes back to its queue; any other model is queued again (superseding a failed rescore). */
    State requeued(Requeued e) {
      State base =
          new State(details, status, attempt, null, scores, scoreSource, null, null, duplicateOf, evaluationInfo, submittedAt, e.at(), rescore);
      return rescorePending()
          ? base.with(status, rescore.withStatus(ModelStatus.QUEUED), e.at())
          : base.with(ModelStatus.QUEUED, null, e.at());
    }

    State rescoreRequested(RescoreRequested e) {
      return with(status, new PendingRescore(ModelStatus.QUEUED, e.fingerprint(), e.reason(), e.request(), attempt, null, e.at()), e.at());
    }

    State precheckStarted(PrecheckStarted e) {
      return new State(
              details, status, e.attempt(), e.worker(), scores, scoreSource, null, new Progress("precheck", 0), duplicateOf,
              evaluationInfo, submittedAt, e.at(), rescore)
          .attemptMovedTo(ModelStatus.PRECHECK, e.at());
    }

    State runningStarted(RunningStarted e) {
      return new State(
              details, status, attempt, worker, scores, scoreSource, null, new Progress("running", 0), duplicateOf,
              evaluationInfo, submittedAt, e.at(), rescore)
          .attemptMovedTo(ModelStatus.RUNNING, e.at());
    }

    /** The attempt's new status: the pending rescore's, while the model stays COMPLETED; else the model's. */
    private State attemptMovedTo(ModelStatus newStatus, Instant at) {
      return rescorePending() ? with(status, rescore.withStatus(newStatus), at) : with(newStatus, rescore, at);
    }

    State progressed(ProgressReported e) {
      return new State(
          details, status, attempt, worker, scores, scoreSource, failure, new Progress(e.phase(), e.fraction()), duplicateOf,
          evaluationInfo, submittedAt, e.at(), rescore);
    }

    /** The new score becomes the current one; a pending rescore is over. */
    State completed(EvaluationCompleted e) {
      return new State(
          details, ModelStatus.COMPLETED, e.attempt(), worker, e.scores(), e.source(), null, null, duplicateOf, e.evaluationInfo(),
          submittedAt, e.at(), null);
    }

    /** A failed rescore leaves the model COMPLETED with its score and records the failure on the rescore. */
    State failed(EvaluationFailed e) {
      if (rescorePending()) {
        return new State(
            details, status, e.attempt(), worker, scores, scoreSource, null, null, duplicateOf, evaluationInfo, submittedAt, e.at(),
            rescore.failed(e.failure()));
      }
      return new State(
          details, ModelStatus.FAILED, e.attempt(), worker, scores, scoreSource, e.failure(), null, duplicateOf, evaluationInfo,
          submittedAt, e.at(), rescore);
    }
  }

  // ---- wiring ---------------------------------------------------------------------------------

  public static void init(ActorSystem<?> system, CoordinatorSettings settings) {
    ClusterSharding.get(system)
        .init(
            Entity.of(
                    TYPE_KEY,
                    context ->
                        create(
                            context.getEntityId(),
                            settings.snapshotEvery(),
                            settings.projectionParallelism(),
                            settings.dispatch().maxAttempts()))
                .withRole(Roles.COORDINATOR));
  }

  /** @param maxAttempts attempts an evaluation gets before an infrastructure failure is final */
  public static Behavior<Command> create(String hash, int snapshotEvery, int tagCount, int maxAttempts) {
    return new ModelEvaluation(hash, snapshotEvery, tagCount, maxAttempts);
  }

  /** The source recorded for results that a GPU node's evaluation produced. */
  public static final String EVALUATION_SOURCE = "evaluation";

  private final String hash;
  private final int snapshotEvery;
  private final int tagCount;
  private final int maxAttempts;

  private ModelEvaluation(String hash, int snapshotEvery, int tagCount, int maxAttempts) {
    super(PersistenceId.of(TYPE_KEY.name(), hash));
    this.hash = hash;
    this.snapshotEvery = snapshotEvery;
    this.tagCount = tagCount;
    this.maxAttempts = maxAttempts;
  }

  @Override
  public State emptyState() {
    return State.EMPTY;
  }

  @Override
  public Set<String> tagsFor(Event event) {
    return Set.of(ReadSideTags.tagFor(hash, tagCount));
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(snapshotEvery, 2);
  }

  // ---- commands, grouped by state -------------------------------------------------------------

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    CommandHandlerWithReplyBuilder<Command, Event, State> builder = newCommandHandlerWithReplyBuilder();

    builder.forAnyState().onCommand(Get.class, (state, cmd) -> Effect().reply(cmd.replyTo(), StatusReply.success(state)));

    builder
        .forState(State::isEmpty)
        .onCommand(Submit.class, this::submitNew)
        .onCommand(RecordResult.class, this::recordResultForNewModel)
        .onAnyCommand((state, cmd) -> Effect().reply(cmd.replyTo(), StatusReply.error("unknown model " + hash)));

    builder
        .forState(state -> state.is(ModelStatus.QUEUED))
        .onCommand(Submit.class, this::alreadySubmitted)
        .onCommand(Claim.class, this::claim)
        .onCommand(
            RefuseClaim.class,
            (state, cmd) -> Effect().persist(new ClaimRefused(cmd.worker(), cmd.reason(), Instant.now())).thenReply(cmd.replyTo(), StatusReply::success))
        .onCommand(Requeue.class, (state, cmd) -> Effect().reply(cmd.replyTo(), StatusReply.success(state)))
        .onCommand(Rescore.class, this::ignoreStale)
        .onCommand(RecordResult.class, this::recordResult)
        // Results while queued belong to an attempt that was abandoned: acknowledged, ignored.
        .onCommand(StartRunning.class, this::ignoreStale)
        .onCommand(ReportProgress.class, this::ignoreStale)
        .onCommand(Complete.class, this::ignoreStale)
        .onCommand(Fail.class, this::ignoreStale);

    builder
        .forState(state -> state.is(ModelStatus.PRECHECK))
        .onCommand(Submit.class, this::alreadySubmitted)
        .onCommand(StartRunning.class, this::startRunning)
        .onCommand(ReportProgress.class, this::reportProgress)
        .onCommand(Fail.class, this::fail)
        .onCommand(Complete.class, (state, cmd) -> rejectOrIgnore(state, cmd.attempt(), cmd.replyTo(), "cannot complete before precheck has passed"))
        .onCommand(RefuseClaim.class, this::ignoreStale)
        .onCommand(Requeue.class, this::requeue)
        .onCommand(Rescore.class, this::ignoreStale)
        .onCommand(RecordResult.class, this::recordResult)
        .onCommand(Claim.class, this::rejectClaim);

    builder
        .forState(state -> state.is(ModelStatus.RUNNING))
        .onCommand(Submit.class, this::alreadySubmitted)
        .onCommand(StartRunning.class, (state, cmd) -> Effect().reply(cmd.replyTo(), StatusReply.success(state)))
        .onCommand(RefuseClaim.class, this::ignoreStale)
        .onCommand(ReportProgress.class, this::reportProgress)
        .onCommand(Complete.class, this::complete)
        .onCommand(Fail.class, this::fail)
        .onCommand(Requeue.class, this::requeue)
        .onCommand(Rescore.class, this::ignoreStale)
        .onCommand(RecordResult.class, this::recordResult)
        .onCommand(Claim.class, this::rejectClaim);

    builder
        .forState(state -> state.status() != null && state.attemptStatus().isFinal())
        .onCommand(Submit.class, this::alreadySubmitted)
        .onCommand(Requeue.class, this::requeue)
        .onCommand(Rescore.class, this::rescore)
        .onCommand(RecordResult.class, this::recordResult)
        .onCommand(Claim.class, this::rejectClaim)
        .onCommand(RefuseClaim.class, this::ignoreStale)
        // A duplicate delivery of the result that finished this attempt, or a result of an older one.
        .onCommand(StartRunning.class, this::ignoreStale)
        .onCommand(ReportProgress.class, this::ignoreStale)
        .onCommand(Complete.class, this::ignoreStale)
        .onCommand(Fail.class, this::ignoreStale);

    return builder.build();
  }

  private ReplyEffect<Event, State> submitNew(State state, Submit cmd) {
    Instant now = Instant.now();
    Submitted submitted = new Submitted(cmd.details(), cmd.admission().duplicateOf(), now);
    List<Event> events =
        cmd.admission().refusal() == null ? List.of(submitted) : List.of(submitted, new SubmissionRefused(cmd.admission().refusal(), now));
    return Effect().persist(events).thenReply(cmd.replyTo(), StatusReply::success);
  }

  private ReplyEffect<Event, State> alreadySubmitted(State state, Submit cmd) {
    return Effect().reply(cmd.replyTo(), StatusReply.success(state));
  }

  private ReplyEffect<Event, State> claim(State state, Claim cmd) {
    return Effect()
        .persist(new PrecheckStarted(state.attempt() + 1, cmd.worker(), Instant.now()))
        .thenReply(cmd.replyTo(), StatusReply::success);
  }

  private ReplyEffect<Event, State> rejectClaim(State state, Claim cmd) {
    String where = state.attemptStatus() + (state.rescorePending() ? " (rescore)" : "");
    return Effect().reply(cmd.replyTo(), StatusReply.error("model " + hash + " is " + where + ", not queued"));
  }

  private ReplyEffect<Event, State> startRunning(State state, StartRunning cmd) {
    if (cmd.attempt() != state.attempt()) return ignoreStale(state, cmd);
    return Effect().persist(new RunningStarted(cmd.attempt(), Instant.now())).thenReply(cmd.replyTo(), StatusReply::success);
  }

  private ReplyEffect<Event, State> reportProgress(State state, ReportProgress cmd) {
    if (cmd.attempt() != state.attempt()) return ignoreStale(state, cmd);
    if (!(cmd.fraction() >= 0 && cmd.fraction() <= 1)) {
      return Effect().reply(cmd.replyTo(), StatusReply.error("progress fraction must be in [0, 1], was " + cmd.fraction()));
    }
    return Effect()
        .persist(new ProgressReported(cmd.attempt(), cmd.phase(), cmd.fraction(), Instant.now()))
        .thenReply(cmd.replyTo(), StatusReply::success);
  }

  private ReplyEffect<Event, State> complete(State state, Complete cmd) {
    if (cmd.attempt() != state.attempt()) return ignoreStale(state, cmd);
    Instant now = Instant.now();
    Event completed = new EvaluationCompleted(cmd.attempt(), cmd.scores(), EVALUATION_SOURCE, Map.copyOf(cmd.evaluationInfo()), now);
    List<Event> events =
        cmd.verdicts().isEmpty() ? List.of(completed) : List.of(new VerdictsRecorded(cmd.attempt(), List.copyOf(cmd.verdicts()), now), completed);
    return Effect().persist(events).thenReply(cmd.replyTo(), StatusReply::success);
  }

  /**
   * A miner's fault is final. An infrastructure failure (a lost worker, an unreachable judge) is not the
   * miner's doing: the model goes back to the queue until {@code maxAttempts} attempts have been spent.
   */
  private ReplyEffect<Event, State> fail(State state, Fail cmd) {
    if (cmd.attempt() != state.attempt()) return ignoreStale(state, cmd);
    Failure failure = cmd.failure();
    // A rescore gets its own maxAttempts, counted from its request.
    String what = state.rescorePending() ? "rescore attempt " : "attempt ";
    int spent = state.rescorePending() ? cmd.attempt() - state.rescore().sinceAttempt() : cmd.attempt();
    Event event =
        failure.category() == FailureCategory.INFRASTRUCTURE && spent < maxAttempts
            ? new Requeued(what + spent + " of " + maxAttempts + " failed (infrastructure): " + failure.reason(), Instant.now())
            : new EvaluationFailed(cmd.attempt(), failure, Instant.now());
    return Effect().persist(event).thenReply(cmd.replyTo(), StatusReply::success);
  }

  private ReplyEffect<Event, State> requeue(State state, Requeue cmd) {
    return Effect().persist(new Requeued(cmd.reason(), Instant.now())).thenReply(cmd.replyTo(), StatusReply::success);
  }

  /** Only a COMPLETED model whose score was produced under another fingerprint (or any, for {@code all}) is rescored. */
  private ReplyEffect<Event, State> rescore(State state, Rescore cmd) {
    boolean scoredUnderAnother = ALL_FINGERPRINTS.equals(cmd.fingerprint()) || !cmd.fingerprint().equals(state.scoringFingerprint());
    if (state.status() != ModelStatus.COMPLETED || !scoredUnderAnother) return ignoreStale(state, cmd);
    return Effect()
        .persist(new RescoreRequested(cmd.fingerprint(), cmd.reason(), cmd.request(), Instant.now()))
        .thenReply(cmd.replyTo(), StatusReply::success);
  }

  /** An imported result takes a fresh attempt number so that any evaluation still in flight becomes stale. */
  private ReplyEffect<Event, State> recordResult(State state, RecordResult cmd) {
    return Effect()
        .persist(new EvaluationCompleted(state.attempt() + 1, cmd.scores(), cmd.source(), Map.of(), Instant.now()))
        .thenReply(cmd.replyTo(), StatusReply::success);
  }

  private ReplyEffect<Event, State> recordResultForNewModel(State state, RecordResult cmd) {
    Instant now = Instant.now();
    return Effect()
        .persist(List.of(new Submitted(cmd.details(), null, now), new EvaluationCompleted(1, cmd.scores(), cmd.source(), Map.of(), now)))
        .thenReply(cmd.replyTo(), StatusReply::success);
  }

  private ReplyEffect<Event, State> ignoreStale(State state, Command cmd) {
    return Effect().reply(cmd.replyTo(), StatusReply.success(state));
  }

  private ReplyEffect<Event, State> rejectOrIgnore(State state, int attempt, ActorRef<StatusReply<State>> replyTo, String why) {
    if (attempt != state.attempt()) return Effect().reply(replyTo, StatusReply.success(state));
    return Effect().reply(replyTo, StatusReply.error(why));
  }

  // ---- events ---------------------------------------------------------------------------------

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onEvent(Submitted.class, State::submitted)
        .onEvent(SubmissionRefused.class, State::refused)
        .onEvent(Requeued.class, State::requeued)
        .onEvent(RescoreRequested.class, State::rescoreRequested)
        .onEvent(PrecheckStarted.class, State::precheckStarted)
        .onEvent(RunningStarted.class, State::runningStarted)
        .onEvent(ProgressReported.class, State::progressed)
        .onEvent(EvaluationCompleted.class, State::completed)
        .onEvent(EvaluationFailed.class, State::failed)
        .onEvent(VerdictsRecorded.class, (state, e) -> state)
        .onEvent(ClaimRefused.class, (state, e) -> state)
        .build();
  }
}
