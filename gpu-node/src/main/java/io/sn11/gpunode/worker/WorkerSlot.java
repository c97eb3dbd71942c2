package io.sn11.gpunode.worker;

import io.sn11.cluster.domain.EvaluationInfo;
import io.sn11.cluster.domain.Failure;
import io.sn11.cluster.domain.FailureCategory;
import io.sn11.cluster.work.EvaluationWork;
import io.sn11.cluster.work.EvaluationWork.Assignment;
import io.sn11.cluster.work.EvaluationWork.DispatcherCommand;
import io.sn11.cluster.metrics.Sn11Metrics;
import io.sn11.cluster.work.EvaluationWork.Completed;
import io.sn11.cluster.work.EvaluationWork.Failed;
import io.sn11.cluster.work.EvaluationWork.Job;
import io.sn11.cluster.work.EvaluationWork.Progress;
import io.sn11.cluster.work.EvaluationWork.Update;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;
import java.util.function.BiFunction;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.delivery.ConsumerController;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.pattern.StatusReply;

/**
 * One evaluation slot of a gpu-node: takes jobs from the dispatcher one at a time (a consumer
 * controller with a small window), claims each, runs it in a child {@link EvaluationRun}, renews the lease with
 * heartbeats while it runs, passes its progress on (at most every progress interval, and at every new
 * phase), and sends the result until the coordinator has recorded it. Only then is the job confirmed
 * and the next one asked for. When the coordinator answers a progress report that the attempt is over (its lease
 * expired and it was re-queued, or a result was imported), the slot stops the run at once and moves on. It is offered
 * work under its node's scoring fingerprint, which its claims and reports carry and its completed results name
 * ({@link EvaluationInfo#SCORING_FINGERPRINT}).
 */
public final class WorkerSlot extends AbstractBehavior<WorkerSlot.Command> {

  public interface Command {}

  private record Delivered(ConsumerController.Delivery<Job> delivery) implements Command {}

  private record DispatchersListed(Receptionist.Listing listing) implements Command {}

  private record ClaimAnswered(ConsumerController.Delivery<Job> delivery, Assignment assignment, Throwable refusal) implements Command {}

  private enum RetryClaim implements Command {
    INSTANCE
  }

  /** A non-final update of the running evaluation (RUNNING, progress). */
  record RunReported(int attempt, Update update) implements Command {}

  /** The evaluation's outcome: completed or failed. */
  record RunFinished(int attempt, Update outcome) implements Command {}

  private record RunStopped(int attempt) implements Command {}

  private enum HeartbeatTick implements Command {
    INSTANCE
  }

  private record ProgressAnswered(int attempt, boolean attemptOver) implements Command {}

  private record FinalAnswered(int attempt, Throwable failure) implements Command {}

  private record RetryFinal(int attempt) implements Command {}

  /** The job this slot has claimed and what has become of it. */
  private static final class Current {
    final ConsumerController.Delivery<Job> delivery;
    final Assignment assignment;
    ActorRef<EvaluationRun.Command> run;
    String lastPhase;
    Instant lastProgressSent = Instant.MIN;
    /** The phase the evaluation is in, and since when (for the phase durations). */
    String phase = "claim";
    long phaseStartedNanos = System.nanoTime();
    Update outcome;
    int finalTries;

    Current(ConsumerController.Delivery<Job> delivery, Assignment assignment) {
      this.delivery = delivery;
      this.assignment = assignment;
    }
  }

  /** @param fingerprint the id of the node's scoring fingerprint: the slot is offered work for it only */
  public static Behavior<Command> create(
      String workerName, String fingerprint, GpuNodeSettings settings, Evaluator evaluator, Executor evaluationThreads) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers -> new WorkerSlot(context, timers, workerName, fingerprint, settings, evaluator, evaluationThreads, Clock.systemUTC())));
  }

  private final TimerScheduler<Command> timers;
  private final String workerName;
  private final String fingerprint;
  private final GpuNodeSettings settings;
  private final Evaluator evaluator;
  private final Executor evaluationThreads;
  private final Clock clock;
  private final Sn11Metrics metrics;

  private ActorRef<DispatcherCommand> dispatcher;
  /** A delivered job not claimed yet (waiting for a dispatcher, or for its answer). */
  private ConsumerController.Delivery<Job> unclaimed;
  private boolean claiming;
  private Current current;

  private WorkerSlot(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      String workerName,
      String fingerprint,
      GpuNodeSettings settings,
      Evaluator evaluator,
      Executor evaluationThreads,
      Clock clock) {
    super(context);
    this.timers = timers;
    this.workerName = workerName;
    this.fingerprint = fingerprint;
    this.settings = settings;
    this.evaluator = evaluator;
    this.evaluationThreads = evaluationThreads;
    this.clock = clock;
    this.metrics = Sn11Metrics.get(context.getSystem());

    context
        .getSystem()
        .receptionist()
        .tell(Receptionist.subscribe(EvaluationWork.DISPATCHER_KEY, context.messageAdapter(Receptionist.Listing.class, DispatchersListed::new)));

    // A small window: the consumer controller asks for more at half the window, and with a window of
    // one or two it never asks again after the first job. So a busy slot may hold a few offers behind
    // its current job; the dispatcher offers them elsewhere again when they are not claimed within a
    // lease timeout, and a claim of a model that someone else has claimed meanwhile is refused.
    ConsumerController.Settings consumerSettings = ConsumerController.Settings$.MODULE$.create(context.getSystem()).withFlowControlWindow(4);
    ActorRef<ConsumerController.Command<Job>> consumer =
        context.spawn(ConsumerController.create(EvaluationWork.workerKey(fingerprint), consumerSettings), "jobs");
    ActorRef<ConsumerController.Delivery<Job>> deliveries =
        context.messageAdapter(ConsumerController.deliveryClass(), Delivered::new);
    consumer.tell(new ConsumerController.Start<>(deliveries));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(DispatchersListed.class, this::onDispatchersListed)
        .onMessage(Delivered.class, this::onDelivered)
        .onMessage(ClaimAnswered.class, this::onClaimAnswered)
        .onMessageEquals(RetryClaim.INSTANCE, this::claim)
        .onMessage(RunReported.class, this::onRunReported)
        .onMessage(RunFinished.class, this::onRunFinished)
        .onMessage(RunStopped.class, this::onRunStopped)
        .onMessageEquals(HeartbeatTick.INSTANCE, this::onHeartbeatTick)
        .onMessage(ProgressAnswered.class, this::onProgressAnswered)
        .onMessage(FinalAnswered.class, this::onFinalAnswered)
        .onMessage(RetryFinal.class, retry -> sendFinal(retry.attempt()))
        .build();
  }

  // ---- claiming ---------------------------------------------------------------------------------

  private Behavior<Command> onDispatchersListed(DispatchersListed listed) {
    dispatcher = listed.listing().getServiceInstances(EvaluationWork.DISPATCHER_KEY).stream().findFirst().orElse(null);
    return claim();
  }

  private Behavior<Command> onDelivered(Delivered delivered) {
    unclaimed = delivered.delivery();
    return claim();
  }

  private Behavior<Command> claim() {
    if (unclaimed == null || claiming || dispatcher == null) return this;
    claiming = true;
    ConsumerController.Delivery<Job> delivery = unclaimed;
    String hash = delivery.message().hash();
    getContext()
        .askWithStatus(
            Assignment.class,
            dispatcher,
            settings.reportTimeout(),
            replyTo -> new EvaluationWork.Claim(hash, workerName, getContext().getSelf(), fingerprint, replyTo),
            (assignment, refusal) -> new ClaimAnswered(delivery, assignment, refusal));
    return this;
  }

  private Behavior<Command> onClaimAnswered(ClaimAnswered answer) {
    claiming = false;
    if (answer.refusal() instanceof TimeoutException) {
      // The dispatcher may be moving to another node: ask again.
      timers.startSingleTimer(RetryClaim.INSTANCE, settings.reportBackoff());
      return this;
    }
    unclaimed = null;
    if (answer.refusal() != null) {
      getContext().getLog().info("job {} dropped: {}", answer.delivery().message().hash(), answer.refusal().getMessage());
      answer.delivery().confirmTo().tell(ConsumerController.confirmed());
      return this;
    }
    start(answer.delivery(), answer.assignment());
    return this;
  }

  // ---- running ----------------------------------------------------------------------------------

  private void start(ConsumerController.Delivery<Job> delivery, Assignment assignment) {
    current = new Current(delivery, assignment);
    getContext().getLog().info("evaluating model {} (attempt {})", assignment.hash(), assignment.attempt());
    ActorRef<EvaluationRun.Command> run =
        getContext()
            .spawn(
                EvaluationRun.create(evaluator, assignment, getContext().getSelf(), evaluationThreads, settings.evaluation().timeout()),
                "run-" + assignment.hash() + "-" + assignment.attempt());
    current.run = run;
    getContext().watchWith(run, new RunStopped(assignment.attempt()));
    timers.startTimerWithFixedDelay(HeartbeatTick.INSTANCE, assignment.heartbeatInterval());
  }

  private boolean isCurrent(int attempt) {
    return current != null && current.assignment.attempt() == attempt;
  }

  private Behavior<Command> onRunReported(RunReported reported) {
    if (!isCurrent(reported.attempt()) || current.outcome != null) return this;
    Update update = reported.update();
    if (update instanceof Progress progress) enterPhase(progress.phase());
    Instant now = clock.instant();
    if (update instanceof Progress progress) {
      boolean newPhase = !progress.phase().equals(current.lastPhase);
      boolean due = !now.isBefore(current.lastProgressSent.plus(settings.progressInterval()));
      if (!newPhase && !due && progress.fraction() < 1) return this;
      current.lastPhase = progress.phase();
    }
    current.lastProgressSent = now;
    // Progress is best effort: a lost one is superseded by the next.
    int attempt = reported.attempt();
    send(update, (done, failure) -> new ProgressAnswered(attempt, EvaluationWork.isAttemptOver(failure)));
    return this;
  }

  /** An attempt the coordinator no longer runs (abandoned, superseded) is stopped: its evaluation JVM killed, the next job taken. */
  private Behavior<Command> onProgressAnswered(ProgressAnswered answered) {
    if (answered.attemptOver() && isCurrent(answered.attempt()) && current.outcome == null) {
      getContext().getLog().warn("model {} attempt {} is over at the coordinator: stopping its evaluation", current.assignment.hash(), answered.attempt());
      getContext().stop(current.run);
      finish();
    }
    return this;
  }

  private Behavior<Command> onRunFinished(RunFinished finished) {
    if (!isCurrent(finished.attempt()) || current.outcome != null) return this;
    current.outcome = stamped(finished.outcome());
    enterPhase("result");
    if (finished.outcome() instanceof Completed completed) recordSpeed(completed.evaluationInfo());
    return sendFinal(finished.attempt());
  }

  /** A completed result names the fingerprint it was scored under, kept with its scores. */
  private Update stamped(Update outcome) {
    if (!(outcome instanceof Completed completed)) return outcome;
    java.util.Map<String, String> info = new java.util.LinkedHashMap<>(completed.evaluationInfo());
    info.put(EvaluationInfo.SCORING_FINGERPRINT, fingerprint);
    return new Completed(completed.scores(), info, completed.verdicts());
  }

  private Behavior<Command> onRunStopped(RunStopped stopped) {
    if (isCurrent(stopped.attempt()) && current.outcome == null) {
      current.outcome = new Failed(new Failure("the evaluation stopped without a result", FailureCategory.INFRASTRUCTURE));
      return sendFinal(stopped.attempt());
    }
    return this;
  }

  private Behavior<Command> onHeartbeatTick() {
    if (current != null && dispatcher != null) {
      Assignment a = current.assignment;
      dispatcher.tell(new EvaluationWork.Heartbeat(a.hash(), a.attempt(), workerName, getContext().getSelf()));
    }
    return this;
  }

  /** Closes the current phase's duration when the evaluation moves on to another. */
  private void enterPhase(String phase) {
    if (phase.equals(current.phase)) return;
    long now = System.nanoTime();
    metrics.evaluationPhases.labelValues(current.phase).observe((now - current.phaseStartedNanos) / 1e9);
    current.phase = phase;
    current.phaseStartedNanos = now;
  }

  /** Tokens per second of a completed evaluation, from what it recorded: scoring and generation. */
  private void recordSpeed(java.util.Map<String, String> info) {
    String backend = info.getOrDefault("backend", "unknown");
    String latencyMs = info.get("mean_forward_latency_ms");
    String samples = info.get("samples");
    String scoredTokens = info.get("scored_tokens");
    String generation = info.get("generation_tokens_per_second");
    try {
      if (latencyMs != null && samples != null && scoredTokens != null) {
        double seconds = Double.parseDouble(latencyMs) * Integer.parseInt(samples) / 1000;
        if (seconds > 0) metrics.tokensPerSecond.labelValues(backend, "scoring").set(Integer.parseInt(scoredTokens) / seconds);
      }
      if (generation != null) metrics.tokensPerSecond.labelValues(backend, "generation").set(Double.parseDouble(generation));
    } catch (NumberFormatException notAFigure) {
      getContext().getLog().warn("evaluation info with a malformed speed figure: {}", info);
    }
  }

  // ---- the result -------------------------------------------------------------------------------

  private Behavior<Command> sendFinal(int attempt) {
    if (!isCurrent(attempt)) return this;
    current.finalTries++;
    send(current.outcome, (done, failure) -> new FinalAnswered(attempt, failure));
    return this;
  }

  private Behavior<Command> onFinalAnswered(FinalAnswered answered) {
    if (!isCurrent(answered.attempt())) return this;
    if (answered.failure() == null) {
      finish();
    } else if (current.finalTries < settings.reportAttempts()) {
      Duration backoff = settings.reportBackoff().multipliedBy(1L << Math.min(current.finalTries - 1, 5));
      getContext().getLog().warn("result of model {} not recorded yet ({}); again in {}", current.assignment.hash(), answered.failure().getMessage(), backoff);
      timers.startSingleTimer(new RetryFinal(answered.attempt()), backoff);
    } else {
      // The lease runs out and the dispatcher re-queues the model: nothing is lost, only this attempt.
      getContext().getLog().error("result of model {} could not be delivered after {} tries; leaving it to the lease", current.assignment.hash(), current.finalTries);
      finish();
    }
    return this;
  }

  private void finish() {
    timers.cancel(HeartbeatTick.INSTANCE);
    current.delivery.confirmTo().tell(ConsumerController.confirmed());
    current = null;
  }

  /** Sends an update of the current attempt to the dispatcher; {@code answer} maps its acknowledgement. */
  private void send(Update update, BiFunction<Done, Throwable, Command> answer) {
    if (dispatcher == null) {
      getContext().getSelf().tell(answer.apply(null, new IllegalStateException("no dispatcher known yet")));
      return;
    }
    Assignment a = current.assignment;
    getContext()
        .askWithStatus(
            Done.class,
            dispatcher,
            settings.reportTimeout(),
            replyTo -> new EvaluationWork.Report(a.hash(), a.attempt(), update, fingerprint, replyTo),
            answer::apply);
  }
}
