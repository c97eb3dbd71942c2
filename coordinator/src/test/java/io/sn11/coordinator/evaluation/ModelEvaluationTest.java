package io.sn11.coordinator.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sn11.cluster.domain.Failure;
import io.sn11.cluster.domain.FailureCategory;
import io.sn11.cluster.domain.ModelDetails;
import io.sn11.cluster.domain.ModelStatus;
import io.sn11.cluster.domain.Scores;
import io.sn11.cluster.domain.JudgeIdentity;
import io.sn11.cluster.domain.VerdictRecord;
import io.sn11.coordinator.evaluation.ModelEvaluation.Admission;
import io.sn11.coordinator.evaluation.ModelEvaluation.Claim;
import io.sn11.coordinator.evaluation.ModelEvaluation.Command;
import io.sn11.coordinator.evaluation.ModelEvaluation.Complete;
import io.sn11.coordinator.evaluation.ModelEvaluation.Event;
import io.sn11.coordinator.evaluation.ModelEvaluation.EvaluationCompleted;
import io.sn11.coordinator.evaluation.ModelEvaluation.EvaluationFailed;
import io.sn11.coordinator.evaluation.ModelEvaluation.Fail;
import io.sn11.coordinator.evaluation.ModelEvaluation.Get;
import io.sn11.coordinator.evaluation.ModelEvaluation.PrecheckStarted;
import io.sn11.coordinator.evaluation.ModelEvaluation.Progress;
import io.sn11.coordinator.evaluation.ModelEvaluation.ProgressReported;
import io.sn11.coordinator.evaluation.ModelEvaluation.RecordResult;
import io.sn11.coordinator.evaluation.ModelEvaluation.ReportProgress;
import io.sn11.coordinator.evaluation.ModelEvaluation.Requeue;
import io.sn11.coordinator.evaluation.ModelEvaluation.Requeued;
import io.sn11.coordinator.evaluation.ModelEvaluation.RunningStarted;
import io.sn11.coordinator.evaluation.ModelEvaluation.StartRunning;
import io.sn11.coordinator.evaluation.ModelEvaluation.State;
import io.sn11.coordinator.evaluation.ModelEvaluation.Submit;
import io.sn11.coordinator.evaluation.ModelEvaluation.SubmissionRefused;
import io.sn11.coordinator.evaluation.ModelEvaluation.Submitted;
import io.sn11.coordinator.testing.EntityTestKits;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.jackson.JacksonCborSerializer;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every transition of the ModelEvaluation entity, checked twice: the events it persisted and the state
 * it answered. Each test ends with a restart, so the same state must come back from the journal alone.
 */
class ModelEvaluationTest {
  private static final AtomicInteger IDS = new AtomicInteger(1_000);
  private static final int MAX_ATTEMPTS = 2;
  private static ActorTestKit testKit;

  private static final Scores SCORES = new Scores(0.9, 0.5, 0.8, 0.42, 0.97, 0.6, null, 0.42);
  private static final Scores OTHER_SCORES = new Scores(0.7, 0.4, 0.6, 0.31, 0.96, 0.5, null, 0.31);
  private static final Map<String, String> INFO = Map.of("content_hash", "abc123", "worker_version", "1");

  private String hash;
  private ModelDetails details;
  private EventSourcedBehaviorTestKit<Command, Event, State> kit;

  @BeforeAll
  static void startTestKit() {
    testKit = EntityTestKits.actorTestKit();
  }

  @AfterAll
  static void stopTestKit() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void newEntity() {
    hash = Integer.toString(IDS.incrementAndGet());
    details = new ModelDetails(hash, "miner-ns", "roleplay-" + hash, "chatml", "5Hotkey" + hash, 4_000_100L, "main", "c1");
    kit = EntityTestKits.entity(testKit, ModelEvaluation.create(hash, 100, 4, MAX_ATTEMPTS));
  }

  @AfterEach
  void replayReproducesTheState() {
    State before = kit.getState();
    assertEquals(before, kit.restart().state(), "replaying the journal must give the same state");
  }

  // ---- helpers -------------------------------------------------------------------------------

  private CommandResultWithReply<Command, Event, State, StatusReply<State>> run(Function<ActorRef<StatusReply<State>>, Command> command) {
    return kit.runCommand(command);
  }

  private static State ok(CommandResultWithReply<Command, Event, State, StatusReply<State>> result) {
    assertTrue(result.reply().isSuccess(), () -> "expected success, got " + result.reply());
    assertEquals(result.state(), result.reply().getValue(), "the reply carries the state after the command");
    return result.reply().getValue();
  }

  private static String error(CommandResultWithReply<Command, Event, State, StatusReply<State>> result) {
    assertTrue(result.reply().isError(), () -> "expected an error, got " + result.reply());
    assertTrue(result.hasNoEvents(), "a refused command persists nothing");
    return result.reply().getError().getMessage();
  }

  /** The command is acknowledged with the unchanged state and persists nothing. */
  private void assertIgnored(Function<ActorRef<StatusReply<State>>, Command> command) {
    State before = kit.getState();
    var result = run(command);
    assertTrue(result.hasNoEvents(), () -> "expected no event, got " + result.events());
    assertEquals(before, ok(result));
    assertEquals(before, kit.getState());
  }

  /** StartRunning, ReportProgress, Complete and Fail of {@code attempt} are all acknowledged and ignored. */
  private void assertResultsOfAttemptIgnored(int attempt) {
    assertIgnored(r -> new StartRunning(attempt, r));
    assertIgnored(r -> new ReportProgress(attempt, "generation", 0.5, r));
    assertIgnored(r -> new Complete(attempt, OTHER_SCORES, Map.of(), List.of(), r));
    assertIgnored(r -> new Fail(attempt, new Failure("late failure", FailureCategory.INFRASTRUCTURE), r));
  }

  private State submit() {
    var result = run(r -> new Submit(details, Admission.ACCEPTED, r));
    Submitted event = assertInstanceOf(Submitted.class, result.event());
    assertEquals(new Submitted(details, null, event.at()), event);
    return ok(result);
  }

  private State claim(String worker) {
    int attempt = kit.getState().attempt() + 1;
    var result = run(r -> new Claim(worker, r));
    PrecheckStarted event = assertInstanceOf(PrecheckStarted.class, result.event());
    assertEquals(new PrecheckStarted(attempt, worker, event.at()), event);
    return ok(result);
  }

  private State startRunning() {
    int attempt = kit.getState().attempt();
    var result = run(r -> new StartRunning(attempt, r));
    RunningStarted event = assertInstanceOf(RunningStarted.class, result.event());
    assertEquals(new RunningStarted(attempt, event.at()), event);
    return ok(result);
  }

  private State complete(Scores scores) {
    int attempt = kit.getState().attempt();
    var result = run(r -> new Complete(attempt, scores, INFO, List.of(), r));
    EvaluationCompleted event = assertInstanceOf(EvaluationCompleted.class, result.event());
    assertEquals(new EvaluationCompleted(attempt, scores, ModelEvaluation.EVALUATION_SOURCE, INFO, event.at()), event);
    return ok(result);
  }

  private State fail(Failure failure) {
    int attempt = kit.getState().attempt();
    var result = run(r -> new Fail(attempt, failure, r));
    EvaluationFailed event = assertInstanceOf(EvaluationFailed.class, result.event());
    assertEquals(new EvaluationFailed(attempt, failure, event.at()), event);
    return ok(result);
  }

  private State requeue(String reason) {
    var result = run(r -> new Requeue(reason, r));
    Requeued event = assertInstanceOf(Requeued.class, result.event());
    assertEquals(new Requeued(reason, event.at()), event);
    return ok(result);
  }

  @Test
  void eventsAndStateGoThroughJacksonCbor() {
    // Otherwise the testkit's serialization round trip would check nothing that production does.
    var serialization = SerializationExtension.get(Adapter.toClassic(testKit.system()));
    assertEquals(JacksonCborSerializer.class, serialization.findSerializerFor(State.EMPTY).getClass());
    assertEquals(JacksonCborSerializer.class, serialization.findSerializerFor(new Requeued("x", java.time.Instant.EPOCH)).getClass());
    kit.clear();
  }

  // ---- empty ---------------------------------------------------------------------------------

  @Test
  void getOnAnEmptyEntityAnswersTheEmptyState() {
    var result = run(Get::new);
    assertTrue(result.hasNoEvents());
    State state = ok(result);
    assertEquals(State.EMPTY, state);
    assertTrue(state.isEmpty());
    assertNull(state.status());
  }

  @Test
  void anEmptyEntityRefusesEverythingButSubmitAndRecordResult() {
    assertTrue(error(run(r -> new Claim("w", r))).contains("unknown model " + hash));
    assertTrue(error(run(r -> new StartRunning(1, r))).contains("unknown model"));
    assertTrue(error(run(r -> new ReportProgress(1, "x", 0.5, r))).contains("unknown model"));
    assertTrue(error(run(r -> new Complete(1, SCORES, Map.of(), List.of(), r))).contains("unknown model"));
    assertTrue(error(run(r -> new Fail(1, new Failure("x", FailureCategory.MINER), r))).contains("unknown model"));
    assertTrue(error(run(r -> new Requeue("x", r))).contains("unknown model"));
    assertEquals(State.EMPTY, kit.getState());
  }

  // ---- submit --------------------------------------------------------------------------------

  @Test
  void anAcceptedSubmissionIsQueued() {
    State state = submit();
    assertEquals(ModelStatus.QUEUED, state.status());
    assertEquals(details, state.details());
    assertEquals(0, state.attempt());
    assertEquals(Scores.NONE, state.scores());
    assertNull(state.failure());
    assertNull(state.duplicateOf());
    assertNull(state.worker());
    assertNull(state.progress());
    assertEquals(state.submittedAt(), state.updatedAt());
  }

  @Test
  void aRefusedSubmissionIsRecordedFailedWithTheMinerAtFault() {
    var result = run(r -> new Submit(details, new Admission("chat template unknown", null), r));
    List<Event> events = result.events();
    assertEquals(2, events.size(), () -> "events: " + events);
    Submitted submitted = assertInstanceOf(Submitted.class, events.get(0));
    assertEquals(new Submitted(details, null, submitted.at()), submitted);
    SubmissionRefused refused = assertInstanceOf(SubmissionRefused.class, events.get(1));
    assertEquals(new SubmissionRefused("chat template unknown", submitted.at()), refused);

    State state = ok(result);
    assertEquals(ModelStatus.FAILED, state.status());
    assertEquals(new Failure("chat template unknown", FailureCategory.MINER), state.failure());
    assertEquals(details, state.details());
    assertEquals(Scores.NONE, state.scores());
    // A refused model is final: it cannot be claimed.
    assertTrue(error(run(r -> new Claim("w", r))).contains("FAILED"));
  }

  @Test
  void aDuplicateIsRecordedWithTheModelItDuplicates() {
    var result = run(r -> new Submit(details, new Admission(null, "998877"), r));
    Submitted event = assertInstanceOf(Submitted.class, result.event());
    assertEquals(new Submitted(details, "998877", event.at()), event);
    State state = ok(result);
    assertEquals(ModelStatus.QUEUED, state.status());
    assertEquals("998877", state.duplicateOf());
  }

  @Test
  void aRefusedDuplicateKeepsBoth() {
    var result = run(r -> new Submit(details, new Admission("duplicate of an earlier model", "998877"), r));
    assertEquals(2, result.events().size());
    State state = ok(result);
    assertEquals(ModelStatus.FAILED, state.status());
    assertEquals("998877", state.duplicateOf());
    assertEquals("duplicate of an earlier model", state.failure().reason());
  }

  @Test
  void submittingAgainIsIdempotentInEveryState() {
    State queued = submit();
    ModelDetails changed = new ModelDetails(hash, "other", "other", "vicuna", "other", 1L, null, null);
    assertIgnored(r -> new Submit(details, Admission.ACCEPTED, r));
    // Even a different admission or different details do not change an existing model.
    assertIgnored(r -> new Submit(changed, new Admission("refused now", "1"), r));
    assertEquals(queued, kit.getState());

    claim("w1");
    assertIgnored(r -> new Submit(details, Admission.ACCEPTED, r));
    startRunning();
    assertIgnored(r -> new Submit(details, Admission.ACCEPTED, r));
    complete(SCORES);
    assertIgnored(r -> new Submit(details, Admission.ACCEPTED, r));
    requeue("again");
    claim("w2");
    fail(new Failure("broken weights", FailureCategory.MINER));
    assertIgnored(r -> new Submit(changed, Admission.ACCEPTED, r));
  }

  // ---- claim ---------------------------------------------------------------------------------

  @Test
  void claimMovesAQueuedModelToPrecheckUnderTheNextAttempt() {
    submit();
    State state = claim("gpu-1");
    assertEquals(ModelStatus.PRECHECK, state.status());
    assertEquals(1, state.attempt());
    assertEquals("gpu-1", state.worker());
    assertEquals(new Progress("precheck", 0), state.progress());
  }

  @Test
  void claimIsRefusedUnlessQueued() {
    submit();
    claim("gpu-1");
    assertTrue(error(run(r -> new Claim("gpu-2", r))).contains("is PRECHECK, not queued"));
    startRunning();
    assertTrue(error(run(r -> new Claim("gpu-2", r))).contains("is RUNNING, not queued"));
    complete(SCORES);
    assertTrue(error(run(r -> new Claim("gpu-2", r))).contains("is COMPLETED, not queued"));
    assertEquals(1, kit.getState().attempt());
    assertEquals("gpu-1", kit.getState().worker());
  }

  @Test
  void aRefusedClaimIsRecordedWhileQueuedAndTheModelStaysQueued() {
    State queued = submit();
    var refused = run(r -> new ModelEvaluation.RefuseClaim("gpu-9/slot-1", "claim refused: another fingerprint", r));
    ModelEvaluation.ClaimRefused event = assertInstanceOf(ModelEvaluation.ClaimRefused.class, refused.event());
    assertEquals(new ModelEvaluation.ClaimRefused("gpu-9/slot-1", "claim refused: another fingerprint", event.at()), event);
    assertEquals(queued, ok(refused), "still queued, attempt unchanged");
    claim("gpu-1");
    assertIgnored(r -> new ModelEvaluation.RefuseClaim("gpu-9/slot-1", "late", r));
  }

  // ---- running and progress ------------------------------------------------------------------

  @Test
  void startRunningMovesPrecheckToRunning() {
    submit();
    claim("gpu-1");
    State state = startRunning();
    assertEquals(ModelStatus.RUNNING, state.status());
    assertEquals(1, state.attempt());
    assertEquals("gpu-1", state.worker());
    assertEquals(new Progress("running", 0), state.progress());
    // Again (a re-sent message): acknowledged, nothing persisted.
    assertIgnored(r -> new StartRunning(1, r));
  }

  @Test
  void progressIsRecordedInPrecheckAndRunning() {
    submit();
    claim("gpu-1");
    var precheck = run(r -> new ReportProgress(1, "fetch", 0.25, r));
    ProgressReported first = assertInstanceOf(ProgressReported.class, precheck.event());
    assertEquals(new ProgressReported(1, "fetch", 0.25, first.at()), first);
    assertEquals(new Progress("fetch", 0.25), ok(precheck).progress());
    assertEquals(ModelStatus.PRECHECK, ok(precheck).status());

    startRunning();
    var running = run(r -> new ReportProgress(1, "generation", 1.0, r));
    ProgressReported second = assertInstanceOf(ProgressReported.class, running.event());
    assertEquals(new ProgressReported(1, "generation", 1.0, second.at()), second);
    assertEquals(new Progress("generation", 1.0), ok(running).progress());
    assertEquals(ModelStatus.RUNNING, ok(running).status());

    var zero = run(r -> new ReportProgress(1, "judge", 0.0, r));
    assertEquals(new Progress("judge", 0.0), ok(zero).progress());
  }

  @Test
  void progressOutsideZeroToOneIsAnError() {
    submit();
    claim("gpu-1");
    State before = kit.getState();
    assertTrue(error(run(r -> new ReportProgress(1, "fetch", -0.01, r))).contains("[0, 1]"));
    startRunning();
    State running = kit.getState();
    assertTrue(error(run(r -> new ReportProgress(1, "generation", 1.5, r))).contains("was 1.5"));
    assertTrue(error(run(r -> new ReportProgress(1, "generation", Double.NaN, r))).contains("[0, 1]"));
    assertTrue(error(run(r -> new ReportProgress(1, "generation", Double.POSITIVE_INFINITY, r))).contains("[0, 1]"));
    assertEquals(running, kit.getState());
    assertEquals(ModelStatus.PRECHECK, before.status());
  }

  // ---- complete and fail ---------------------------------------------------------------------

  @Test
  void completeFromRunningRecordsTheScoresFromTheEvaluation() {
    submit();
    claim("gpu-1");
    startRunning();
    State state = complete(SCORES);
    assertEquals(ModelStatus.COMPLETED, state.status());
    assertEquals(SCORES, state.scores());
    assertEquals(ModelEvaluation.EVALUATION_SOURCE, state.scoreSource());
    assertEquals(INFO, state.evaluationInfo());
    assertEquals(1, state.attempt());
    assertNull(state.failure());
    assertNull(state.progress());
  }

  @Test
  void theJudgesVerdictsAreStoredBeforeTheCompletionAndLeaveTheStateAlone() {
    submit();
    claim("gpu-1");
    startRunning();
    VerdictRecord verdict =
        new VerdictRecord(
            "sample-1", "You are Mira.", List.of(new VerdictRecord.Turn("user", "Hello?")), "Ah, hello.", "Hi!", "original",
            "generated", "tie", "r", "e", "c", "engine[acme/judge@main]", null,
            new JudgeIdentity("engine", "acme/judge@main", "ab".repeat(32), "sn11-engine/0.1.0"));
    var result = run(r -> new Complete(1, SCORES, INFO, List.of(verdict), r));
    assertEquals(2, result.events().size(), () -> "events: " + result.events());
    ModelEvaluation.VerdictsRecorded recorded = assertInstanceOf(ModelEvaluation.VerdictsRecorded.class, result.events().get(0));
    assertEquals(List.of(verdict), recorded.verdicts());
    assertEquals(1, recorded.attempt());
    assertInstanceOf(EvaluationCompleted.class, result.events().get(1));
    State state = ok(result);
    assertEquals(ModelStatus.COMPLETED, state.status());
    assertEquals(SCORES, state.scores());
  }

  @Test
  void completeFromPrecheckIsAnError() {
    submit();
    claim("gpu-1");
    State before = kit.getState();
    assertTrue(error(run(r -> new Complete(1, SCORES, INFO, List.of(), r))).contains("cannot complete before precheck has passed"));
    assertEquals(before, kit.getState());
  }

  @Test
  void failFromPrecheck() {
    submit();
    claim("gpu-1");
    State state = fail(new Failure("model above 72 GiB", FailureCategory.MINER));
    assertEquals(ModelStatus.FAILED, state.status());
    assertEquals(new Failure("model above 72 GiB", FailureCategory.MINER), state.failure());
    assertEquals(1, state.attempt());
    assertEquals(Scores.NONE, state.scores());
    assertNull(state.progress());
  }

  @Test
  void failFromRunning() {
    submit();
    claim("gpu-1");
    startRunning();
    State state = fail(new Failure("the model writes nothing but its end token", FailureCategory.MINER));
    assertEquals(ModelStatus.FAILED, state.status());
    assertEquals(new Failure("the model writes nothing but its end token", FailureCategory.MINER), state.failure());
    assertEquals(1, state.attempt());
  }

  @Test
  void anInfrastructureFailureBeforeTheLastAttemptRequeues() {
    submit();
    claim("gpu-1");
    startRunning();
    var result = run(r -> new Fail(1, new Failure("judge unreachable", FailureCategory.INFRASTRUCTURE), r));
    Requeued event = assertInstanceOf(Requeued.class, result.event());
    assertEquals("attempt 1 of 2 failed (infrastructure): judge unreachable", event.reason());
    State state = ok(result);
    assertEquals(ModelStatus.QUEUED, state.status());
    assertNull(state.failure());
    assertEquals(2, claim("gpu-2").attempt());
  }

  @Test
  void anInfrastructureFailureOnTheLastAttemptIsFinal() {
    submit();
    claim("gpu-1");
    run(r -> new Fail(1, new Failure("worker gpu-1 left the cluster", FailureCategory.INFRASTRUCTURE), r));
    claim("gpu-2");
    startRunning();
    State state = fail(new Failure("judge unreachable", FailureCategory.INFRASTRUCTURE));
    assertEquals(ModelStatus.FAILED, state.status());
    assertEquals(new Failure("judge unreachable", FailureCategory.INFRASTRUCTURE), state.failure());
    assertEquals(2, state.attempt());
  }

  @Test
  void aDuplicateDeliveryOfTheSameCompleteIsIgnored() {
    submit();
    claim("gpu-1");
    startRunning();
    complete(SCORES);
    assertIgnored(r -> new Complete(1, SCORES, INFO, List.of(), r));
    // A different result for the same finished attempt cannot overwrite it either.
    assertIgnored(r -> new Complete(1, OTHER_SCORES, Map.of(), List.of(), r));
    assertEquals(SCORES, kit.getState().scores());
  }

  @Test
  void aDuplicateDeliveryOfTheSameFailIsIgnored() {
    submit();
    claim("gpu-1");
    fail(new Failure("no safetensors", FailureCategory.MINER));
    assertIgnored(r -> new Fail(1, new Failure("no safetensors", FailureCategory.MINER), r));
    assertIgnored(r -> new Complete(1, SCORES, INFO, List.of(), r));
    assertEquals(ModelStatus.FAILED, kit.getState().status());
  }

  // ---- stale attempts ------------------------------------------------------------------------

  @Test
  void resultsWhileQueuedAreIgnored() {
    submit();
    assertResultsOfAttemptIgnored(0);
    assertResultsOfAttemptIgnored(1);
    // Queued again after an abandoned attempt: that attempt's late results are ignored.
    claim("gpu-1");
    startRunning();
    requeue("gpu-1 left the cluster");
    assertEquals(ModelStatus.QUEUED, kit.getState().status());
    assertResultsOfAttemptIgnored(1);
  }

  @Test
  void staleResultsInPrecheckAreIgnored() {
    submit();
    claim("gpu-1");
    requeue("gpu-1 left");
    claim("gpu-2");
    assertEquals(2, kit.getState().attempt());
    assertResultsOfAttemptIgnored(1);
    assertResultsOfAttemptIgnored(3);
    assertEquals(ModelStatus.PRECHECK, kit.getState().status());
  }

  @Test
  void staleResultsWhileRunningAreIgnored() {
    submit();
    claim("gpu-1");
    requeue("gpu-1 left");
    claim("gpu-2");
    startRunning();
    assertResultsOfAttemptIgnored(1);
    assertResultsOfAttemptIgnored(7);
    State state = kit.getState();
    assertEquals(ModelStatus.RUNNING, state.status());
    assertEquals(2, state.attempt());
    assertEquals("gpu-2", state.worker());
  }

  @Test
  void staleResultsWhenCompletedOrFailedAreIgnored() {
    submit();
    claim("gpu-1");
    requeue("gpu-1 left");
    claim("gpu-2");
    startRunning();
    complete(SCORES);
    assertResultsOfAttemptIgnored(1);
    assertResultsOfAttemptIgnored(2);
    assertResultsOfAttemptIgnored(3);
    assertEquals(ModelStatus.COMPLETED, kit.getState().status());

    requeue("re-evaluation");
    claim("gpu-3");
    fail(new Failure("judge unreachable", FailureCategory.INFRASTRUCTURE));
    assertResultsOfAttemptIgnored(2);
    assertResultsOfAttemptIgnored(3);
    assertEquals(ModelStatus.FAILED, kit.getState().status());
    assertEquals(SCORES, kit.getState().scores(), "a failed re-evaluation keeps the last scores");
  }

  // ---- requeue -------------------------------------------------------------------------------

  @Test
  void requeueWhileQueuedChangesNothing() {
    submit();
    assertIgnored(r -> new Requeue("again", r));
  }

  @Test
  void requeueFromPrecheck() {
    submit();
    claim("gpu-1");
    State state = requeue("gpu-1 left");
    assertEquals(ModelStatus.QUEUED, state.status());
    assertEquals(1, state.attempt(), "the attempt number is kept; the next claim takes a new one");
    assertNull(state.worker());
    assertNull(state.progress());
    assertEquals(2, claim("gpu-2").attempt());
  }

  @Test
  void requeueFromRunningKeepsThePreviousScoresVisible() {
    submit();
    claim("gpu-1");
    startRunning();
    complete(SCORES);
    requeue("re-evaluation");
    claim("gpu-2");
    startRunning();
    State state = requeue("gpu-2 left");
    assertEquals(ModelStatus.QUEUED, state.status());
    assertEquals(SCORES, state.scores());
    assertEquals(ModelEvaluation.EVALUATION_SOURCE, state.scoreSource());
    assertEquals(2, state.attempt());
    assertNull(state.worker());
  }

  @Test
  void requeueFromCompletedKeepsTheScoresUntilTheNextResult() {
    submit();
    claim("gpu-1");
    startRunning();
    complete(SCORES);
    State queued = requeue("re-evaluation requested by an operator");
    assertEquals(ModelStatus.QUEUED, queued.status());
    assertEquals(SCORES, queued.scores());
    assertEquals(INFO, queued.evaluationInfo());
    assertEquals(SCORES, claim("gpu-2").scores());
    assertEquals(SCORES, startRunning().scores());
    State done = complete(OTHER_SCORES);
    assertEquals(OTHER_SCORES, done.scores());
    assertEquals(2, done.attempt());
  }

  @Test
  void requeueFromFailedClearsTheFailureButKeepsScores() {
    submit();
    claim("gpu-1");
    startRunning();
    complete(SCORES);
    requeue("re-evaluation");
    claim("gpu-2");
    fail(new Failure("judge unreachable", FailureCategory.INFRASTRUCTURE));
    State state = requeue("retry infrastructure failure");
    assertEquals(ModelStatus.QUEUED, state.status());
    assertNull(state.failure());
    assertEquals(SCORES, state.scores());
    assertEquals(3, claim("gpu-3").attempt());
  }

  @Test
  void aRefusedSubmissionCanBeRequeued() {
    run(r -> new Submit(details, new Admission("rate limited", null), r));
    State state = requeue("operator override");
    assertEquals(ModelStatus.QUEUED, state.status());
    assertNull(state.failure());
    assertEquals(1, claim("gpu-1").attempt());
  }

  // ---- recorded results ----------------------------------------------------------------------

  @Test
  void recordResultOnANewModelSubmitsAndCompletesIt() {
    var result = run(r -> new RecordResult(details, SCORES, "leaderboard-import", r));
    List<Event> events = result.events();
    assertEquals(2, events.size(), () -> "events: " + events);
    Submitted submitted = assertInstanceOf(Submitted.class, events.get(0));
    assertEquals(new Submitted(details, null, submitted.at()), submitted);
    EvaluationCompleted completed = assertInstanceOf(EvaluationCompleted.class, events.get(1));
    assertEquals(new EvaluationCompleted(1, SCORES, "leaderboard-import", Map.of(), submitted.at()), completed);

    State state = ok(result);
    assertEquals(ModelStatus.COMPLETED, state.status());
    assertEquals(SCORES, state.scores());
    assertEquals("leaderboard-import", state.scoreSource());
    assertEquals(1, state.attempt());
    assertEquals(details, state.details());
    // A later evaluation of the model still works under the next attempt.
    requeue("re-evaluation");
    assertEquals(2, claim("gpu-1").attempt());
  }

  @Test
  void recordResultOnARunningModelMakesTheRunningAttemptStale() {
    submit();
    claim("gpu-1");
    startRunning();
    var result = run(r -> new RecordResult(details, OTHER_SCORES, "post-eval multiplier", r));
    EvaluationCompleted event = assertInstanceOf(EvaluationCompleted.class, result.event());
    assertEquals(new EvaluationCompleted(2, OTHER_SCORES, "post-eval multiplier", Map.of(), event.at()), event);
    State state = ok(result);
    assertEquals(ModelStatus.COMPLETED, state.status());
    assertEquals(OTHER_SCORES, state.scores());
    assertEquals("post-eval multiplier", state.scoreSource());
    assertEquals(2, state.attempt());
    // The evaluation that was running finishes late: ignored, the recorded result stays.
    assertResultsOfAttemptIgnored(1);
    assertEquals(OTHER_SCORES, kit.getState().scores());
  }

  @Test
  void recordResultOnQueuedAndCompletedModels() {
    submit();
    var queued = run(r -> new RecordResult(details, SCORES, "import", r));
    assertEquals(new EvaluationCompleted(1, SCORES, "import", Map.of(), queued.event().at()), queued.event());
    assertEquals(SCORES, ok(queued).scores());
    var again = run(r -> new RecordResult(details, OTHER_SCORES, "multiplier", r));
    assertEquals(new EvaluationCompleted(2, OTHER_SCORES, "multiplier", Map.of(), again.event().at()), again.event());
    assertEquals(OTHER_SCORES, ok(again).scores());
    assertEquals(ModelStatus.COMPLETED, ok(again).status());
  }

  // ---- replay --------------------------------------------------------------------------------

  @Test
  void restartReplaysAFullLifecycle() {
    submit();
    claim("gpu-1");
    run(r -> new ReportProgress(1, "fetch", 0.5, r));
    requeue("gpu-1 left");
    claim("gpu-2");
    startRunning();
    run(r -> new ReportProgress(2, "generation", 0.75, r));
    State done = complete(SCORES);

    State replayed = kit.restart().state();
    assertEquals(done, replayed);
    assertEquals(ModelStatus.COMPLETED, replayed.status());
    assertEquals(2, replayed.attempt());
    assertEquals("gpu-2", replayed.worker());
    assertFalse(replayed.isEmpty());
    // The replayed entity goes on from where it was.
    assertIgnored(r -> new Complete(2, SCORES, INFO, List.of(), r));
    requeue("re-evaluation");
    assertEquals(3, claim("gpu-3").attempt());
  }

  @Test
  void restartFromASnapshotGivesTheSameStateAsAFullReplay() {
    kit = EntityTestKits.entity(testKit, ModelEvaluation.create(hash, 2, 4, MAX_ATTEMPTS));
    submit();
    claim("gpu-1");
    startRunning();
    State done = complete(SCORES);
    assertTrue(kit.snapshotTestKit().isPresent());
    assertEquals(done, kit.restart().state());
    requeue("re-evaluation");
    State queued = kit.getState();
    assertEquals(queued, kit.restart().state());
  }
}
