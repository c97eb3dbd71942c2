package io.sn11.coordinator.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sn11.cluster.domain.Failure;
import io.sn11.cluster.domain.FailureCategory;
import io.sn11.cluster.domain.ModelDetails;
import io.sn11.cluster.domain.ModelStatus;
import io.sn11.cluster.domain.Scores;
import io.sn11.coordinator.evaluation.HotkeySubmissions.AcceptedModel;
import io.sn11.coordinator.evaluation.HotkeySubmissions.Command;
import io.sn11.coordinator.evaluation.HotkeySubmissions.Event;
import io.sn11.coordinator.evaluation.HotkeySubmissions.ModelAccepted;
import io.sn11.coordinator.evaluation.HotkeySubmissions.PastLearned;
import io.sn11.coordinator.evaluation.HotkeySubmissions.State;
import io.sn11.coordinator.evaluation.HotkeySubmissions.Submit;
import io.sn11.coordinator.testing.EntityTestKits;
import io.sn11.coordinator.testing.Eventually;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The window rule as the hotkey's entity decides it, against model entities kept in memory: what it
 * learns of the past and persists, what it asks of the last accepted model, and what it hands over.
 */
class HotkeySubmissionsTest {
  private static final long WINDOW = 100;
  private static final AtomicInteger IDS = new AtomicInteger();
  private static ActorTestKit testKit;

  private String hotkey;
  private ModelRecords records;
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
  void newHotkey() {
    hotkey = "5Hotkey" + IDS.incrementAndGet();
    records = new ModelRecords();
    kit = EntityTestKits.entity(testKit, HotkeySubmissions.create(hotkey, WINDOW, 100, records));
  }

  /**
   * The models' entities in memory. A submission of a hash in {@code lost} is never recorded and times out,
   * as when its node dies before persisting it; one in {@code held} is answered when the test completes it.
   */
  private static final class ModelRecords implements HotkeySubmissions.Collaborators {
    final Map<String, ModelEvaluation.State> byHash = new ConcurrentHashMap<>();
    final Map<String, ModelEvaluation.Admission> admissions = new ConcurrentHashMap<>();
    final Set<String> lost = ConcurrentHashMap.newKeySet();
    final Map<String, CompletableFuture<Void>> held = new ConcurrentHashMap<>();
    final AtomicInteger pastReads = new AtomicInteger();
    volatile AcceptedModel pastOnReadSide;

    @Override
    public CompletionStage<Optional<AcceptedModel>> latestAcceptedOnReadSide(String hotkey) {
      pastReads.incrementAndGet();
      return CompletableFuture.completedFuture(Optional.ofNullable(pastOnReadSide));
    }

    @Override
    public CompletionStage<ModelEvaluation.State> recordOf(String hash) {
      return CompletableFuture.completedFuture(byHash.getOrDefault(hash, ModelEvaluation.State.EMPTY));
    }

    @Override
    public CompletionStage<ModelEvaluation.State> submit(ModelDetails details, ModelEvaluation.Admission admission) {
      admissions.put(details.hash(), admission);
      if (lost.contains(details.hash())) return CompletableFuture.failedFuture(new TimeoutException("model " + details.hash() + " did not answer"));
      return held.getOrDefault(details.hash(), CompletableFuture.completedFuture(null)).thenApply(ignored -> record(details, admission));
    }

    @Override
    public CompletionStage<ModelEvaluation.State> recordResult(ModelDetails details, HotkeySubmissions.ImportedResult result) {
      Instant now = Instant.now();
      return CompletableFuture.completedFuture(
          byHash.computeIfAbsent(
              details.hash(),
              hash ->
                  ModelEvaluation.State.EMPTY
                      .submitted(new ModelEvaluation.Submitted(details, null, now))
                      .completed(new ModelEvaluation.EvaluationCompleted(1, result.scores(), result.source(), Map.of(), now))));
    }

    private ModelEvaluation.State record(ModelDetails details, ModelEvaluation.Admission admission) {
      return byHash.computeIfAbsent(
          details.hash(),
          hash -> {
            Instant now = Instant.now();
            ModelEvaluation.State submitted = ModelEvaluation.State.EMPTY.submitted(new ModelEvaluation.Submitted(details, admission.duplicateOf(), now));
            return admission.refusal() == null ? submitted : submitted.refused(new ModelEvaluation.SubmissionRefused(admission.refusal(), now));
          });
    }

    void fail(String hash) {
      byHash.computeIfPresent(
          hash, (h, state) -> state.failed(new ModelEvaluation.EvaluationFailed(1, new Failure("does not load", FailureCategory.MINER), Instant.now())));
    }
  }

  private ModelDetails model(String name, long block) {
    return new ModelDetails(hotkey + "-" + name, "miner-ns", name, "chatml", hotkey, block, "main", null);
  }

  private EventSourcedBehaviorTestKit.CommandResultWithReply<Command, Event, State, StatusReply<ModelEvaluation.State>> submit(
      ModelDetails details, boolean enforceWindow) {
    return kit.runCommand(replyTo -> new Submit(details, null, enforceWindow, null, replyTo));
  }

  private static ModelEvaluation.State answered(
      EventSourcedBehaviorTestKit.CommandResultWithReply<Command, Event, State, StatusReply<ModelEvaluation.State>> result) {
    assertTrue(result.reply().isSuccess(), () -> "expected a record, got " + result.reply());
    return result.reply().getValue();
  }

  private static ModelAccepted accepted(ModelDetails details, Event event) {
    ModelAccepted accepted = assertInstanceOf(ModelAccepted.class, event);
    assertEquals(new ModelAccepted(details.hash(), details.block(), accepted.at()), accepted);
    return accepted;
  }

  private static String refusal(ModelEvaluation.State record) {
    assertEquals(ModelStatus.FAILED, record.status());
    assertEquals(FailureCategory.MINER, record.failure().category());
    return record.failure().reason();
  }

  // ---- the past, learned once -------------------------------------------------------------------

  @Test
  void aFreshHotkeyLearnsItsPastOnceAndPersistsItWithItsFirstAcceptance() {
    ModelDetails first = model("first", 1_000);
    var result = kit.<StatusReply<ModelEvaluation.State>>runCommand(replyTo -> new Submit(first, "model 42 (same repository)", true, null, replyTo));
    assertEquals(ModelStatus.QUEUED, answered(result).status());
    assertEquals(2, result.events().size(), result.events()::toString);
    assertNull(assertInstanceOf(PastLearned.class, result.events().get(0)).latestAccepted());
    accepted(first, result.events().get(1));
    assertEquals(new ModelEvaluation.Admission(null, "model 42 (same repository)"), records.admissions.get(first.hash()));

    var refused = submit(model("second", 1_000 + WINDOW - 1), true);
    assertTrue(refused.hasNoEvents(), refused.events()::toString);
    String reason = refusal(answered(refused));
    assertTrue(reason.contains("already has model " + first.hash() + " accepted at block 1000"), reason);
    assertTrue(reason.contains("allowed from block " + (1_000 + WINDOW)), reason);

    assertEquals(1, records.pastReads.get(), "the read side is asked once");
    assertEquals(new State(true, new AcceptedModel(first.hash(), 1_000)), kit.restart().state());
    submit(model("third", 1_000 + WINDOW), true);
    assertEquals(1, records.pastReads.get(), "nor after a restart");
  }

  @Test
  void aModelAcceptedBeforeTheEntityExistedHoldsTheWindow() {
    ModelDetails past = model("past", 1_000);
    records.submit(past, ModelEvaluation.Admission.ACCEPTED);
    records.pastOnReadSide = new AcceptedModel(past.hash(), past.block());

    var refused = submit(model("inside", 1_050), true);
    assertTrue(refusal(answered(refused)).contains("already has model " + past.hash()));
    assertEquals(List.of(new PastLearned(records.pastOnReadSide, ((PastLearned) refused.event()).at())), refused.events());

    ModelDetails after = model("after", 1_000 + WINDOW);
    var result = submit(after, true);
    assertEquals(ModelStatus.QUEUED, answered(result).status());
    accepted(after, result.event());
    assertEquals(1, records.pastReads.get());
  }

  // ---- the window ---------------------------------------------------------------------------------

  @Test
  void afterTheLastAcceptedModelFailedTheNextIsAcceptedAtOnce() {
    ModelDetails first = model("first", 1_000);
    submit(first, true);
    records.fail(first.hash());
    ModelDetails second = model("second", 1_001);
    var result = submit(second, true);
    assertEquals(ModelStatus.QUEUED, answered(result).status());
    accepted(second, result.event());
    // The second one is now the last accepted, and it has not failed.
    assertTrue(refusal(answered(submit(model("third", 1_002), true))).contains("already has model " + second.hash()));
  }

  @Test
  void anAcceptedModelThatNeverReachedItsEntityHoldsNoWindow() {
    // The reply to the lost submission carries the ask's TimeoutException, which survives the serialization
    // round trip but has no equals: the testkit checks that round trip without comparing.
    kit =
        EventSourcedBehaviorTestKit.create(
            testKit.system(),
            HotkeySubmissions.create(hotkey, WINDOW, 100, records),
            EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyEquality(false));
    ModelDetails lost = model("lost", 1_000);
    records.lost.add(lost.hash());
    var crashed = submit(lost, true);
    assertInstanceOf(TimeoutException.class, crashed.reply().getError());
    accepted(lost, crashed.events().get(1));

    kit.restart();
    ModelDetails next = model("next", 1_001);
    var result = submit(next, true);
    assertEquals(ModelStatus.QUEUED, answered(result).status());
    accepted(next, result.event());
  }

  @Test
  void theSameModelAgainIsHandedOverWithoutANewAcceptance() {
    ModelDetails first = model("first", 1_000);
    ModelEvaluation.State record = answered(submit(first, true));
    var again = submit(first, true);
    assertTrue(again.hasNoEvents(), again.events()::toString);
    assertEquals(record, answered(again));
  }

  @Test
  void anOperatorsQueueingIsNotHeldByTheWindowAndStartsOneOfItsOwn() {
    submit(model("first", 1_000), true);
    ModelDetails queued = model("queued", 1_001);
    var result = submit(queued, false);
    assertEquals(ModelStatus.QUEUED, answered(result).status());
    accepted(queued, result.event());
    assertTrue(refusal(answered(submit(model("third", 1_002), true))).contains("already has model " + queued.hash()));
  }

  @Test
  void anImportedResultIsNotHeldByTheWindowAndStartsOneOfItsOwn() {
    submit(model("first", 1_000), true);
    ModelDetails imported = model("imported", 1_001);
    Scores scores = new Scores(null, null, null, 0.5, null, null, null, 0.5);
    var result =
        kit.<StatusReply<ModelEvaluation.State>>runCommand(
            replyTo -> new Submit(imported, null, true, new HotkeySubmissions.ImportedResult(scores, "import"), replyTo));
    ModelEvaluation.State record = answered(result);
    assertEquals(ModelStatus.COMPLETED, record.status());
    assertEquals(scores, record.scores());
    accepted(imported, result.event());
    assertTrue(refusal(answered(submit(model("third", 1_002), true))).contains("already has model " + imported.hash()));
  }

  @Test
  void aSubmissionArrivingWhileAnotherIsHandedOverIsDecidedAfterIt() throws Exception {
    ModelDetails first = model("first", 1_000);
    ModelDetails second = model("second", 1_000);
    CompletableFuture<Void> firstPersisted = new CompletableFuture<>();
    records.held.put(first.hash(), firstPersisted);
    ActorRef<Command> entity = testKit.spawn(HotkeySubmissions.create(hotkey + "-spawned", WINDOW, 100, records));
    TestProbe<StatusReply<ModelEvaluation.State>> firstReply = testKit.createTestProbe();
    TestProbe<StatusReply<ModelEvaluation.State>> secondReply = testKit.createTestProbe();

    entity.tell(new Submit(first, null, true, null, firstReply.ref()));
    Eventually.await(Duration.ofSeconds(10), () -> records.admissions.containsKey(first.hash()));
    entity.tell(new Submit(second, null, true, null, secondReply.ref()));
    // Decided now, the second would find no record of the first and take it for lost.
    secondReply.expectNoMessage(Duration.ofMillis(300));
    firstPersisted.complete(null);

    assertEquals(ModelStatus.QUEUED, firstReply.receiveMessage().getValue().status());
    assertTrue(refusal(secondReply.receiveMessage().getValue()).contains("already has model " + first.hash()));
  }
}
