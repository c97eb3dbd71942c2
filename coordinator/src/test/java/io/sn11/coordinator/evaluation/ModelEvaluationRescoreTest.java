package io.sn11.coordinator.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sn11.cluster.domain.EvaluationInfo;
import io.sn11.cluster.domain.Failure;
import io.sn11.cluster.domain.FailureCategory;
import io.sn11.cluster.domain.ModelDetails;
import io.sn11.cluster.domain.ModelStatus;
import io.sn11.cluster.domain.Scores;
import io.sn11.coordinator.evaluation.ModelEvaluation.Admission;
import io.sn11.coordinator.evaluation.ModelEvaluation.Claim;
import io.sn11.coordinator.evaluation.ModelEvaluation.Command;
import io.sn11.coordinator.evaluation.ModelEvaluation.Complete;
import io.sn11.coordinator.evaluation.ModelEvaluation.Event;
import io.sn11.coordinator.evaluation.ModelEvaluation.EvaluationFailed;
import io.sn11.coordinator.evaluation.ModelEvaluation.Fail;
import io.sn11.coordinator.evaluation.ModelEvaluation.PendingRescore;
import io.sn11.coordinator.evaluation.ModelEvaluation.RecordResult;
import io.sn11.coordinator.evaluation.ModelEvaluation.Requeue;
import io.sn11.coordinator.evaluation.ModelEvaluation.Requeued;
import io.sn11.coordinator.evaluation.ModelEvaluation.Rescore;
import io.sn11.coordinator.evaluation.ModelEvaluation.RescoreRequested;
import io.sn11.coordinator.evaluation.ModelEvaluation.StartRunning;
import io.sn11.coordinator.evaluation.ModelEvaluation.State;
import io.sn11.coordinator.evaluation.ModelEvaluation.Submit;
import io.sn11.coordinator.testing.EntityTestKits;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Rescores of the ModelEvaluation entity: a COMPLETED model stays COMPLETED with its score while its rescore is
 * queued and running, and only the rescore's completion replaces the score. Each test ends with a restart.
 */
class ModelEvaluationRescoreTest {
  private static final AtomicInteger IDS = new AtomicInteger(5_000);
  private static final int MAX_ATTEMPTS = 2;
  private static ActorTestKit testKit;

  private static final Scores OLD_SCORES = new Scores(0.9, 0.5, 0.8, 0.42, 0.97, 0.6, null, 0.42);
  private static final Scores NEW_SCORES = new Scores(0.9, 0.4, 0.6, 0.31, 0.96, 0.5, null, 0.31);
  private static final Map<String, String> OLD_INFO = Map.of("content_hash", "abc123", EvaluationInfo.SCORING_FINGERPRINT, "fp-old");
  private static final Map<String, String> NEW_INFO = Map.of("content_hash", "abc123", EvaluationInfo.SCORING_FINGERPRINT, "fp-new");

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
    String hash = Integer.toString(IDS.incrementAndGet());
    details = new ModelDetails(hash, "miner-ns", "roleplay-" + hash, "chatml", "5Hotkey" + hash, 4_000_100L, "main", "c1");
    kit = EntityTestKits.entity(testKit, ModelEvaluation.create(hash, 100, 4, MAX_ATTEMPTS));
  }

  @AfterEach
  void replayReproducesTheState() {
    assertEquals(kit.getState(), kit.restart().state(), "replaying the journal must give the same state");
  }

  private CommandResultWithReply<Command, Event, State, StatusReply<State>> run(Function<ActorRef<StatusReply<State>>, Command> command) {
    return kit.runCommand(command);
  }

  private static State ok(CommandResultWithReply<Command, Event, State, StatusReply<State>> result) {
    assertTrue(result.reply().isSuccess(), () -> "expected success, got " + result.reply());
    return result.reply().getValue();
  }

  /** Submitted, evaluated at attempt 1 under fp-old with OLD_SCORES. */
  private State completedModel() {
    run(r -> new Submit(details, Admission.ACCEPTED, r));
    ok(run(r -> new Claim("gpu-1", r)));
    ok(run(r -> new StartRunning(1, r)));
    return ok(run(r -> new Complete(1, OLD_SCORES, OLD_INFO, List.of(), r)));
  }

  /** Asserts what every validator reads of the model: COMPLETED with the old score, produced under fp-old. */
  private static void assertOldScoreCurrent(State state) {
    assertEquals(ModelStatus.COMPLETED, state.status());
    assertEquals(OLD_SCORES, state.scores());
    assertEquals(OLD_INFO, state.evaluationInfo());
    assertEquals("fp-old", state.scoringFingerprint());
    assertNull(state.failure());
  }

  private State rescore(String fingerprint, String request) {
    var result = run(r -> new Rescore(fingerprint, "scoring changed", request, r));
    RescoreRequested event = assertInstanceOf(RescoreRequested.class, result.event());
    assertEquals(new RescoreRequested(fingerprint, "scoring changed", request, event.at()), event);
    State state = ok(result);
    assertEquals(new PendingRescore(ModelStatus.QUEUED, fingerprint, "scoring changed", request, 1, null, event.at()), state.rescore());
    assertTrue(state.rescoredBy(request));
    return state;
  }

  private void assertNotRescored(String fingerprint) {
    State before = kit.getState();
    var result = run(r -> new Rescore(fingerprint, "scoring changed", "request-x", r));
    assertTrue(result.hasNoEvents(), () -> "expected no event, got " + result.events());
    assertEquals(before, ok(result));
    assertFalse(ok(result).rescoredBy("request-x"));
  }

  @Test
  void aRescoreKeepsTheOldScoreCurrentWhileQueuedAndRunningAndItsCompletionReplacesIt() {
    completedModel();
    State queued = rescore("fp-new", "request-1");
    assertOldScoreCurrent(queued);
    assertEquals(ModelStatus.QUEUED, queued.attemptStatus());

    State precheck = ok(run(r -> new Claim("gpu-2", r)));
    assertOldScoreCurrent(precheck);
    assertEquals(2, precheck.attempt());
    assertEquals(ModelStatus.PRECHECK, precheck.attemptStatus());
    assertEquals(ModelStatus.PRECHECK, precheck.rescore().status());
    var secondClaim = run(r -> new Claim("gpu-3", r));
    assertTrue(secondClaim.reply().isError());
    assertTrue(secondClaim.reply().getError().getMessage().contains("is PRECHECK (rescore), not queued"), secondClaim.reply()::toString);

    State running = ok(run(r -> new StartRunning(2, r)));
    assertOldScoreCurrent(running);
    assertEquals(ModelStatus.RUNNING, running.rescore().status());

    State done = ok(run(r -> new Complete(2, NEW_SCORES, NEW_INFO, List.of(), r)));
    assertEquals(ModelStatus.COMPLETED, done.status());
    assertEquals(NEW_SCORES, done.scores());
    assertEquals("fp-new", done.scoringFingerprint());
    assertEquals(2, done.attempt());
    assertNull(done.rescore());
    assertEquals(ModelStatus.COMPLETED, done.attemptStatus());
  }

  @Test
  void onlyACompletedModelScoredUnderAnotherFingerprintIsRescoredAndOnlyOnce() {
    run(r -> new Submit(details, Admission.ACCEPTED, r));
    assertNotRescored("fp-new"); // queued, never scored
    assertNotRescored(ModelEvaluation.ALL_FINGERPRINTS);
    ok(run(r -> new Claim("gpu-1", r)));
    ok(run(r -> new StartRunning(1, r)));
    ok(run(r -> new Complete(1, OLD_SCORES, OLD_INFO, List.of(), r)));
    assertNotRescored("fp-old"); // scored under the requested fingerprint already
    rescore("fp-new", "request-1");
    assertNotRescored("fp-newer"); // a rescore is pending: not queued twice
    assertNotRescored(ModelEvaluation.ALL_FINGERPRINTS);
    assertTrue(kit.getState().rescoredBy("request-1"));
  }

  @Test
  void allRescoresAModelWhateverItsFingerprintAndNoFingerprintCountsAsAnother() {
    completedModel();
    rescore(ModelEvaluation.ALL_FINGERPRINTS, "request-all");
    ok(run(r -> new Claim("gpu-2", r)));
    ok(run(r -> new StartRunning(2, r)));
    // An older node reports no fingerprint: the model is scored under none, which any fingerprint differs from.
    State done = ok(run(r -> new Complete(2, NEW_SCORES, Map.of("content_hash", "abc123"), List.of(), r)));
    assertNull(done.scoringFingerprint());
    var again = run(r -> new Rescore("fp-old", "scoring changed", "request-2", r));
    assertTrue(ok(again).rescoredBy("request-2"));
  }

  @Test
  void aFailedRescoreLeavesTheOldScoreCurrentAndRecordsTheFailureOnTheRescore() {
    completedModel();
    rescore("fp-new", "request-1");
    ok(run(r -> new Claim("gpu-2", r)));
    Failure minerFault = new Failure("repository not found", FailureCategory.MINER);
    var result = run(r -> new Fail(2, minerFault, r));
    EvaluationFailed event = assertInstanceOf(EvaluationFailed.class, result.event());
    assertEquals(new EvaluationFailed(2, minerFault, event.at()), event);
    State state = ok(result);
    assertOldScoreCurrent(state);
    assertEquals(ModelStatus.COMPLETED, state.attemptStatus());
    assertEquals(ModelStatus.FAILED, state.rescore().status());
    assertEquals(minerFault, state.rescore().failure());
    assertFalse(state.rescorePending());
    // Its late results are ignored, and it can be rescored again.
    assertTrue(run(r -> new Complete(2, NEW_SCORES, NEW_INFO, List.of(), r)).hasNoEvents());
    assertEquals(ModelStatus.QUEUED, ok(run(r -> new Rescore("fp-new", "again", "request-2", r))).rescore().status());
  }

  @Test
  void aRescoresInfrastructureFailuresRequeueItWithItsOwnAttemptsCountedFromTheRequest() {
    completedModel();
    rescore("fp-new", "request-1");
    ok(run(r -> new Claim("gpu-2", r)));
    Failure lost = new Failure("worker left", FailureCategory.INFRASTRUCTURE);
    // Attempt 2 is the rescore's first of MAX_ATTEMPTS = 2: back to the rescore's queue, still COMPLETED.
    var first = run(r -> new Fail(2, lost, r));
    Requeued requeued = assertInstanceOf(Requeued.class, first.event());
    assertEquals("rescore attempt 1 of 2 failed (infrastructure): worker left", requeued.reason());
    State state = ok(first);
    assertOldScoreCurrent(state);
    assertEquals(ModelStatus.QUEUED, state.rescore().status());
    assertEquals("request-1", state.rescore().request());
    ok(run(r -> new Claim("gpu-3", r)));
    // The rescore's second attempt is its last.
    State failed = ok(run(r -> new Fail(3, lost, r)));
    assertOldScoreCurrent(failed);
    assertEquals(ModelStatus.FAILED, failed.rescore().status());
  }

  @Test
  void anOperatorsRequeueOfARunningRescoreQueuesTheRescoreAgain() {
    completedModel();
    rescore("fp-new", "request-1");
    ok(run(r -> new Claim("gpu-2", r)));
    State state = ok(run(r -> new Requeue("operator", r)));
    assertOldScoreCurrent(state);
    assertEquals(ModelStatus.QUEUED, state.rescore().status());
    assertNull(state.worker());
    assertEquals(3, ok(run(r -> new Claim("gpu-3", r))).attempt());
  }

  @Test
  void aRequeueAfterAFailedRescoreIsAnOrdinaryReEvaluation() {
    completedModel();
    rescore("fp-new", "request-1");
    ok(run(r -> new Claim("gpu-2", r)));
    ok(run(r -> new Fail(2, new Failure("bad weights", FailureCategory.MINER), r)));
    State state = ok(run(r -> new Requeue("operator", r)));
    assertEquals(ModelStatus.QUEUED, state.status());
    assertNull(state.rescore());
    assertEquals(OLD_SCORES, state.scores());
  }

  @Test
  void aRecordedResultDuringARescoreReplacesTheScoreAndEndsTheRescore() {
    completedModel();
    rescore("fp-new", "request-1");
    ok(run(r -> new Claim("gpu-2", r)));
    State state = ok(run(r -> new RecordResult(details, NEW_SCORES, "import", r)));
    assertEquals(ModelStatus.COMPLETED, state.status());
    assertEquals(NEW_SCORES, state.scores());
    assertNull(state.rescore());
    assertNull(state.scoringFingerprint());
    // The rescore's attempt is stale now.
    assertTrue(run(r -> new Complete(2, OLD_SCORES, NEW_INFO, List.of(), r)).hasNoEvents());
    assertEquals(NEW_SCORES, kit.getState().scores());
  }

  @Test
  void aRescoreSurvivesASnapshot() {
    kit = EntityTestKits.entity(testKit, ModelEvaluation.create(details.hash(), 2, 4, MAX_ATTEMPTS));
    completedModel();
    State queued = rescore("fp-new", "request-1");
    assertTrue(kit.snapshotTestKit().isPresent());
    assertEquals(queued, kit.restart().state());
  }
}
