package io.sn11.coordinator.dispatch;

import io.sn11.cluster.domain.Failure;
import io.sn11.cluster.domain.FailureCategory;
import io.sn11.cluster.domain.ModelStatus;
import io.sn11.cluster.metrics.Sn11Metrics;
import io.sn11.cluster.work.EvaluationWork;
import io.sn11.cluster.work.EvaluationWork.Assignment;
import io.sn11.cluster.work.EvaluationWork.Claim;
import io.sn11.cluster.work.EvaluationWork.Completed;
import io.sn11.cluster.work.EvaluationWork.DispatcherCommand;
import io.sn11.cluster.work.EvaluationWork.Failed;
import io.sn11.cluster.work.EvaluationWork.Heartbeat;
import io.sn11.cluster.work.EvaluationWork.Job;
import io.sn11.cluster.work.EvaluationWork.Progress;
import io.sn11.cluster.work.EvaluationWork.Report;
import io.sn11.cluster.work.EvaluationWork.Running;
import io.sn11.cluster.work.EvaluationWork.Update;
import io.sn11.coordinator.CoordinatorSettings;
import io.sn11.cluster.node.Roles;
import io.sn11.coordinator.evaluation.ModelEvaluation;
import io.sn11.coordinator.readside.ReadSide;
import io.sn11.coordinator.readside.ReadSide.AttemptRow;
import org.apache.pekko.Done;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.delivery.WorkPullingProducerController;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.ClusterSingletonSettings;
import org.apache.pekko.cluster.typed.SingletonActor;
import org.apache.pekko.pattern.StatusReply;

/**
 * Hands queued evaluations to the gpu-nodes and watches over the attempts they claim. One per cluster
 * (a singleton on the coordinator role); everything it holds can be rebuilt from the read side, so a
 * new instance after a fail-over simply carries on.
 *
 * <ul>
 *   <li>The queue: every poll reads the oldest queued models from the read side, then the oldest queued
 *       rescores ({@link ReadSide#queuedModels}). A work-pulling producer offers them to worker slots that
 *       have asked for work.
 *   <li>Claims: a worker claims an offered model; the entity starts a new attempt (PRECHECK) and the
 *       dispatcher grants a lease on it. Offers are only offers: a duplicate or late one is refused.
 *   <li>Leases: heartbeats and reports renew them. A lease that expires, or whose worker is gone, fails
 *       the attempt with category infrastructure, which the entity turns into a re-queue until its
 *       attempts are spent. Attempts in PRECHECK or RUNNING that nobody holds a lease on (after a
 *       fail-over) get one lease timeout for their worker to speak up.
 *   <li>Reports: progress and results go to the entity, and are acknowledged once it has recorded them.
 *   <li>The scoring fingerprint: work is offered only to the slots of gpu-nodes with the required fingerprint (the
 *       producer works on that fingerprint's key, started once {@link RequiredFingerprint} tells it: that collaborator
 *       learns it, from {@link ScoringVersion} or a gpu-node, and warns about gpu-nodes with another one). It is
 *       decided once per dispatcher: what decides it changes only with a restart. A claim or a result carrying another
 *       fingerprint is refused and recorded in the model's journal: a refused result fails its attempt as
 *       infrastructure, so the model is queued again for a matching node.
 * </ul>
 */
public final class Dispatcher extends AbstractBehavior<Dispatcher.Command> {

  interface Command {}

  private record FromWorker(DispatcherCommand command) implements Command {}

  private record WorkWanted(WorkPullingProducerController.RequestNext<Job> requestNext) implements Command {}

  private enum Tick implements Command {
    INSTANCE
  }

  private record Polled(List<AttemptRow> queued, List<AttemptRow> active, Map<ModelStatus, Integer> byStatus) implements Command {}

  private record PollFailed(Throwable cause) implements Command {}

  /** The entity's answer to a claim: the new attempt, or why it was refused. */
  private record Claimed(Claim claim, ModelEvaluation.State state, Throwable refusal) implements Command {}

  private record WorkerGone(ActorRef<?> worker) implements Command {}

  private record ClaimedAttempt(int attempt, Instant at) {}

  /** An attempt someone is (or should be) working on, until {@code expiresAt}. */
  private record Lease(int attempt, String worker, ActorRef<?> workerRef, Instant expiresAt) {
    Lease renewedUntil(Instant until, String byWorker, ActorRef<?> byRef) {
      return new Lease(attempt, byWorker, byRef, until);
    }
  }

  /** Starts the singleton (on coordinator nodes) and returns a reference to it. */
  public static ActorRef<Command> init(ActorSystem<?> system, CoordinatorSettings settings, ReadSide readSide, Executor blocking) {
    Behavior<Command> behavior =
        Behaviors.supervise(create(settings, readSide, blocking, Clock.systemUTC())).onFailure(SupervisorStrategy.restart());
    return ClusterSingleton.get(system)
        .init(
            SingletonActor.of(behavior, "evaluation-dispatcher")
                .withSettings(ClusterSingletonSettings.create(system).withRole(Roles.COORDINATOR)));
  }

  static Behavior<Command> create(CoordinatorSettings settings, ReadSide readSide, Executor blocking, Clock clock) {
    return Behaviors.setup(
        context -> Behaviors.withTimers(timers -> new Dispatcher(context, timers, settings, readSide, blocking, clock)));
  }

  private final CoordinatorSettings.Dispatch dispatch;
  private final Duration askTimeout;
  private final ReadSide readSide;
  private final Executor blocking;
  private final Clock clock;
  private final ClusterSharding sharding;
  private final Sn11Metrics metrics;

  private WorkPullingProducerController.RequestNext<Job> demand;
  private final ArrayDeque<String> queue = new ArrayDeque<>();
  /** Models offered to a worker and not claimed yet, with when they were offered. */
  private final Map<String, Instant> offered = new HashMap<>();
  private final Map<String, Lease> leases = new HashMap<>();
  /**
   * Attempts claimed lately, so that a queued row the read side has not caught up with yet (its attempt
   * is older) is not offered again. Kept for a lease timeout, far longer than the read side's lag.
   */
  private final Map<String, ClaimedAttempt> recentClaims = new HashMap<>();
  private final Set<ActorRef<?>> watched = new HashSet<>();
  private boolean polling;
  private final RequiredFingerprint requiredFingerprint;
  /** The id of the fingerprint work must be scored under; null until {@link RequiredFingerprint} has told it. */
  private String required;

  private Dispatcher(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      CoordinatorSettings settings,
      ReadSide readSide,
      Executor blocking,
      Clock clock) {
    super(context);
    context.setLoggerName(Dispatcher.class);
    this.dispatch = settings.dispatch();
    this.askTimeout = settings.askTimeout();
    this.readSide = readSide;
    this.blocking = blocking;
    this.clock = clock;
    this.sharding = ClusterSharding.get(context.getSystem());
    this.metrics = Sn11Metrics.get(context.getSystem());
    this.requiredFingerprint = new RequiredFingerprint(context, settings, this::onRequiredKnown);
    ActorRef<DispatcherCommand> workerFacing = context.messageAdapter(DispatcherCommand.class, FromWorker::new);
    context.getSystem().receptionist().tell(Receptionist.register(EvaluationWork.DISPATCHER_KEY, workerFacing));
    timers.startTimerWithFixedDelay(Tick.INSTANCE, Duration.ZERO, dispatch.pollInterval());
  }

  /** Told the required fingerprint: from now on, work is offered to its slots only. */
  private void onRequiredKnown(String requiredId) {
    required = requiredId;
    startProducer();
  }

  @SuppressWarnings("unchecked")
  private void startProducer() {
    // A fresh producer id per incarnation: consumers then treat a fail-over as a new producer.
    ActorRef<WorkPullingProducerController.Command<Job>> producer =
        getContext()
            .spawn(
                WorkPullingProducerController.create(Job.class, "evaluation-jobs-" + UUID.randomUUID(), EvaluationWork.workerKey(required), Optional.empty()),
                "jobs");
    ActorRef<WorkPullingProducerController.RequestNext<Job>> wanted =
        getContext()
            .messageAdapter((Class<WorkPullingProducerController.RequestNext<Job>>) (Class<?>) WorkPullingProducerController.RequestNext.class, WorkWanted::new);
    producer.tell(new WorkPullingProducerController.Start<>(wanted));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Tick.class, tick -> onTick())
        .onMessage(Polled.class, this::onPolled)
        .onMessage(PollFailed.class, this::onPollFailed)
        .onMessage(WorkWanted.class, this::onWorkWanted)
        .onMessage(FromWorker.class, this::onFromWorker)
        .onMessage(Claimed.class, this::onClaimed)
        .onMessage(WorkerGone.class, this::onWorkerGone)
        .onMessage(RequiredFingerprint.Answer.class, answer -> {
          requiredFingerprint.on(answer);
          return this;
        })
        .build();
  }

  // ---- the queue --------------------------------------------------------------------------------

  private Behavior<Command> onTick() {
    Instant now = clock.instant();
    requiredFingerprint.onTick(now);
    List.copyOf(leases.entrySet()).forEach(entry -> {
      if (entry.getValue().expiresAt().isBefore(now)) {
        Lease lease = entry.getValue();
        abandon(entry.getKey(), lease, "no heartbeat from " + describe(lease) + " for " + dispatch.leaseTimeout().toSeconds() + " s");
      }
    });
    // An offer not claimed within a lease timeout went to a worker that is gone or busy: offer it again.
    offered.values().removeIf(at -> at.plus(dispatch.leaseTimeout()).isBefore(now));
    recentClaims.values().removeIf(claim -> claim.at().plus(dispatch.leaseTimeout()).isBefore(now));
    if (!polling) {
      polling = true;
      getContext()
          .pipeToSelf(
              CompletableFuture.supplyAsync(() -> poll(), blocking),
              (polled, failure) -> failure == null ? polled : new PollFailed(failure));
    }
    return this;
  }

  private Polled poll() {
    try {
      return new Polled(readSide.queuedModels(dispatch.pollBatch()), readSide.activeAttempts(), readSide.modelsByStatus());
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException("cannot read the queue from the read side: " + e.getMessage(), e);
    }
  }

  private Behavior<Command> onPollFailed(PollFailed failed) {
    polling = false;
    getContext().getLog().warn("dispatcher poll failed; trying again at the next tick", failed.cause());
    return this;
  }

  private Behavior<Command> onPolled(Polled polled) {
    polling = false;
    for (ModelStatus status : ModelStatus.values()) metrics.queue.labelValues(status.name()).set(polled.byStatus().getOrDefault(status, 0));
    getContext().getLog().debug("polled: queued {}, active {}, demand {}", polled.queued(), polled.active(), demand != null);
    Instant orphanDeadline = clock.instant().plus(dispatch.leaseTimeout());
    Map<String, Integer> activeAttempts = new HashMap<>();
    for (AttemptRow active : polled.active()) {
      activeAttempts.put(active.hash(), active.attempt());
      // An attempt nobody holds a lease on: its worker gets one lease timeout to send a heartbeat.
      leases.putIfAbsent(active.hash(), new Lease(active.attempt(), null, null, orphanDeadline));
    }
    // An adopted lease whose attempt the read side no longer shows active was adopted from a stale read.
    leases.entrySet().removeIf(e -> e.getValue().worker() == null && !Integer.valueOf(e.getValue().attempt()).equals(activeAttempts.get(e.getKey())));
    for (AttemptRow row : polled.queued()) {
      ClaimedAttempt claimed = recentClaims.get(row.hash());
      if (claimed != null && claimed.attempt() > row.attempt()) continue; // the read side is behind
      Lease lease = leases.get(row.hash());
      // Re-queued after that attempt: the lease belongs to an abandoned attempt.
      if (lease != null && lease.attempt() <= row.attempt()) leases.remove(row.hash());
      if (!leases.containsKey(row.hash()) && !offered.containsKey(row.hash()) && !queue.contains(row.hash())) {
        queue.add(row.hash());
      }
    }
    offerWork();
    return this;
  }

  private Behavior<Command> onWorkWanted(WorkWanted wanted) {
    demand = wanted.requestNext();
    offerWork();
    return this;
  }

  private void offerWork() {
    while (demand != null && !queue.isEmpty()) {
      String hash = queue.poll();
      if (leases.containsKey(hash)) continue;
      getContext().getLog().debug("offering model {}", hash);
      demand.sendNextTo().tell(new Job(hash));
      offered.put(hash, clock.instant());
      demand = null; // one job per RequestNext
    }
  }

  // ---- the workers ------------------------------------------------------------------------------

  private Behavior<Command> onFromWorker(FromWorker message) {
    DispatcherCommand command = message.command();
    if (command instanceof Claim claim) {
      claim(claim);
    } else if (command instanceof Heartbeat heartbeat) {
      renew(heartbeat.hash(), heartbeat.attempt(), heartbeat.worker(), heartbeat.workerRef());
    } else if (command instanceof Report report) {
      report(report);
    }
    return this;
  }

  private void claim(Claim claim) {
    offered.remove(claim.hash());
    queue.remove(claim.hash());
    if (required == null) { // just after a fail-over: an offer of the former dispatcher, claimed again once it is known
      claim.replyTo().tell(StatusReply.error("model " + claim.hash() + " cannot be claimed yet: the required scoring fingerprint is not known yet"));
      return;
    }
    if (!required.equals(claim.fingerprint())) {
      String reason = "claim refused: worker " + claim.worker() + " scores under fingerprint " + claim.fingerprint() + ", required " + required;
      refused("claim", claim.hash(), reason);
      claim.replyTo().tell(StatusReply.error(reason));
      askEntity(claim.hash(), replyTo -> new ModelEvaluation.RefuseClaim(claim.worker(), reason, replyTo));
      return;
    }
    getContext()
        .pipeToSelf(
            askEntity(claim.hash(), replyTo -> new ModelEvaluation.Claim(claim.worker(), replyTo)),
            (state, refusal) -> new Claimed(claim, state, refusal));
  }

  private Behavior<Command> onClaimed(Claimed claimed) {
    Claim claim = claimed.claim();
    if (claimed.refusal() != null) {
      claim.replyTo().tell(StatusReply.error("model " + claim.hash() + " cannot be claimed: " + claimed.refusal().getMessage()));
      return this;
    }
    ModelEvaluation.State state = claimed.state();
    Instant now = clock.instant();
    leases.put(claim.hash(), new Lease(state.attempt(), claim.worker(), claim.workerRef(), now.plus(dispatch.leaseTimeout())));
    recentClaims.put(claim.hash(), new ClaimedAttempt(state.attempt(), now));
    watch(claim.workerRef());
    metrics.evaluations.labelValues("started", "").inc();
    getContext().getLog().info("model {} attempt {} claimed by {}", claim.hash(), state.attempt(), claim.worker());
    claim.replyTo().tell(StatusReply.success(new Assignment(claim.hash(), state.attempt(), state.details(), dispatch.heartbeatInterval())));
    return this;
  }

  private void renew(String hash, int attempt, String worker, ActorRef<?> workerRef) {
    Lease lease = leases.get(hash);
    if (lease == null || lease.attempt() != attempt) return; // a stale attempt: its results will be ignored too
    leases.put(hash, lease.renewedUntil(clock.instant().plus(dispatch.leaseTimeout()), worker, workerRef));
    watch(workerRef);
  }

  private void report(Report report) {
    if (report.update().isFinal() && required == null) { // just after a fail-over: the worker sends it again
      report.replyTo().tell(StatusReply.error("not recorded: the required scoring fingerprint is not known yet"));
      return;
    }
    if (report.update().isFinal() && !required.equals(report.fingerprint())) {
      refuseResult(report);
      return;
    }
    Lease lease = leases.get(report.hash());
    if (report.update().isFinal()) {
      if (lease != null && lease.attempt() == report.attempt()) {
        leases.remove(report.hash());
        countOutcome(report.update());
      }
    } else if (lease != null && lease.attempt() == report.attempt()) {
      leases.put(report.hash(), lease.renewedUntil(clock.instant().plus(dispatch.leaseTimeout()), lease.worker(), lease.workerRef()));
    }
    askEntity(report.hash(), entityCommand(report.attempt(), report.update()))
        .whenComplete((state, failure) -> report.replyTo().tell(answer(report, state, failure)));
  }

  /**
   * A result scored under another fingerprint than the required one: its attempt fails as ours (infrastructure), so
   * the model is queued again for a matching node; the worker is told it was recorded, and moves on.
   */
  private void refuseResult(Report report) {
    String reason = "result refused: scored under fingerprint " + report.fingerprint() + ", required " + required;
    refused("result", report.hash(), reason);
    Lease lease = leases.get(report.hash());
    if (lease != null && lease.attempt() == report.attempt()) {
      leases.remove(report.hash());
      metrics.evaluations.labelValues("failed", FailureCategory.INFRASTRUCTURE.wireName()).inc();
    }
    Failed refusal = new Failed(new Failure(reason, FailureCategory.INFRASTRUCTURE));
    askEntity(report.hash(), entityCommand(report.attempt(), refusal))
        .whenComplete((state, failure) -> report.replyTo().tell(answer(report, state, failure)));
  }

  private void refused(String kind, String hash, String reason) {
    metrics.fingerprintRefusals.labelValues(kind).inc();
    getContext().getLog().warn("model {}: {}", hash, reason);
  }

  /** Recorded, or not; and a progress report of an attempt the entity no longer runs is told so, for its worker to stop it. */
  private static StatusReply<Done> answer(Report report, ModelEvaluation.State state, Throwable failure) {
    if (failure != null) return StatusReply.error("not recorded: " + failure.getMessage());
    ModelStatus attemptStatus = state.attemptStatus();
    boolean running = state.attempt() == report.attempt() && (attemptStatus == ModelStatus.PRECHECK || attemptStatus == ModelStatus.RUNNING);
    if (running || report.update().isFinal()) return StatusReply.ack();
    return StatusReply.error(EvaluationWork.ATTEMPT_OVER + ": model " + report.hash() + " is " + attemptStatus + " at attempt " + state.attempt());
  }

  private static Function<ActorRef<StatusReply<ModelEvaluation.State>>, ModelEvaluation.Command> entityCommand(int attempt, Update update) {
    if (update instanceof Progress progress) {
      return replyTo -> new ModelEvaluation.ReportProgress(attempt, progress.phase(), progress.fraction(), replyTo);
    } else if (update instanceof Completed completed) {
      return replyTo -> new ModelEvaluation.Complete(attempt, completed.scores(), completed.evaluationInfo(), completed.verdicts(), replyTo);
    } else if (update instanceof Failed failed) {
      return replyTo -> new ModelEvaluation.Fail(attempt, failed.failure(), replyTo);
    } else if (update instanceof Running) {
      return replyTo -> new ModelEvaluation.StartRunning(attempt, replyTo);
    }
    throw new IllegalArgumentException("unknown update " + update);
  }

  /** Once per attempt: the final report that ends its lease. */
  private void countOutcome(Update update) {
    if (update instanceof Failed failed) {
      metrics.evaluations.labelValues("failed", failed.failure().category().wireName()).inc();
    } else {
      metrics.evaluations.labelValues("completed", "").inc();
    }
  }

  private void watch(ActorRef<?> workerRef) {
    if (workerRef != null && watched.add(workerRef)) getContext().watchWith(workerRef, new WorkerGone(workerRef));
  }

  private Behavior<Command> onWorkerGone(WorkerGone gone) {
    watched.remove(gone.worker());
    List.copyOf(leases.entrySet()).forEach(entry -> {
      if (gone.worker().equals(entry.getValue().workerRef())) {
        abandon(entry.getKey(), entry.getValue(), describe(entry.getValue()) + " left the cluster");
      }
    });
    return this;
  }

  /**
   * Fails the attempt as an infrastructure problem: the entity re-queues it while attempts remain. If the
   * entity cannot be reached now, the next poll finds the attempt orphaned and tries again.
   */
  private void abandon(String hash, Lease lease, String reason) {
    leases.remove(hash);
    getContext().getLog().warn("model {} attempt {} abandoned: {}", hash, lease.attempt(), reason);
    metrics.evaluations.labelValues("failed", FailureCategory.INFRASTRUCTURE.wireName()).inc();
    askEntity(hash, replyTo -> new ModelEvaluation.Fail(lease.attempt(), new Failure(reason, FailureCategory.INFRASTRUCTURE), replyTo));
  }

  private static String describe(Lease lease) {
    return lease.worker() == null ? "its worker" : "worker " + lease.worker();
  }

  private CompletionStage<ModelEvaluation.State> askEntity(
      String hash, Function<ActorRef<StatusReply<ModelEvaluation.State>>, ModelEvaluation.Command> command) {
    long started = System.nanoTime();
    // The command is made once, by the ask; its class names it in the metrics.
    java.util.concurrent.atomic.AtomicReference<String> sent = new java.util.concurrent.atomic.AtomicReference<>("unsent");
    return sharding
        .entityRefFor(ModelEvaluation.TYPE_KEY, hash)
        .<ModelEvaluation.State>askWithStatus(
            replyTo -> {
              ModelEvaluation.Command made = command.apply(replyTo);
              sent.set(made.getClass().getSimpleName());
              return made;
            },
            askTimeout)
        .whenComplete((state, failure) -> metrics.entityCommands.labelValues(sent.get()).observe((System.nanoTime() - started) / 1e9));
  }
}
