package io.sn11.coordinator.dispatch;

import io.sn11.cluster.domain.EvaluationInfo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sn11.cluster.domain.Scores;
import io.sn11.cluster.node.Roles;
import io.sn11.cluster.node.Sn11Node;
import io.sn11.cluster.scoring.ScoringFingerprint;
import io.sn11.cluster.work.EvaluationWork;
import io.sn11.cluster.work.EvaluationWork.Assignment;
import io.sn11.cluster.work.EvaluationWork.Job;
import io.sn11.coordinator.http.ApiNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.delivery.ConsumerController;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dispatcher against a scripted worker slot of the required fingerprint that first claims under another
 * fingerprint, then reports its first result under another, then completes properly: the refused claim and the
 * refused result are recorded in the model's journal, the refused result re-queues the model, and both are counted.
 */
class DispatcherFingerprintTest {
  private static final ScoringFingerprint REQUIRED = ScoringFingerprint.of(Map.of("evaluation.samples", "4"));
  private static final String OTHER = ScoringFingerprint.of(Map.of("evaluation.samples", "16")).id();

  @TempDir Path dir;

  /** Messages of the scripted slot. */
  private interface Step {}

  private record Delivered(ConsumerController.Delivery<Job> delivery) implements Step {}

  private record DispatcherFound(Receptionist.Listing listing) implements Step {}

  private record ClaimAnswered(ConsumerController.Delivery<Job> delivery, Assignment assignment, Throwable refusal) implements Step {}

  private record ReportAnswered(ConsumerController.Delivery<Job> delivery, Assignment assignment, Runnable next) implements Step {}

  /** Claims under the given fingerprints one delivery after another, and reports its results under the others given. */
  private static Behavior<Step> scriptedSlot(List<String> claimsUnder, List<String> resultsUnder) {
    return Behaviors.setup(
        context -> {
          List<String> claims = new ArrayList<>(claimsUnder);
          List<String> results = new ArrayList<>(resultsUnder);
          List<ConsumerController.Delivery<Job>> waiting = new ArrayList<>();
          @SuppressWarnings("unchecked")
          ActorRef<EvaluationWork.DispatcherCommand>[] dispatcher = new ActorRef[1];
          context.getSystem().receptionist().tell(Receptionist.subscribe(EvaluationWork.DISPATCHER_KEY, context.messageAdapter(Receptionist.Listing.class, DispatcherFound::new)));
          ActorRef<ConsumerController.Command<Job>> consumer =
              context.spawn(ConsumerController.create(EvaluationWork.workerKey(REQUIRED.id())), "jobs");
          consumer.tell(new ConsumerController.Start<>(context.messageAdapter(ConsumerController.deliveryClass(), Delivered::new)));
          Runnable claimWaiting =
              () -> {
                if (dispatcher[0] == null || waiting.isEmpty()) return;
                ConsumerController.Delivery<Job> delivery = waiting.remove(0);
                String fingerprint = claims.size() > 1 ? claims.remove(0) : claims.get(0);
                context.askWithStatus(
                    Assignment.class,
                    dispatcher[0],
                    Duration.ofSeconds(10),
                    replyTo -> new EvaluationWork.Claim(delivery.message().hash(), "scripted/slot-1", context.getSelf(), fingerprint, replyTo),
                    (assignment, refusal) -> new ClaimAnswered(delivery, assignment, refusal));
              };
          return Behaviors.receive(Step.class)
              .onMessage(
                  DispatcherFound.class,
                  found -> {
                    dispatcher[0] = found.listing().getServiceInstances(EvaluationWork.DISPATCHER_KEY).stream().findFirst().orElse(null);
                    claimWaiting.run();
                    return Behaviors.same();
                  })
              .onMessage(
                  Delivered.class,
                  delivered -> {
                    waiting.add(delivered.delivery());
                    claimWaiting.run();
                    return Behaviors.same();
                  })
              .onMessage(
                  ClaimAnswered.class,
                  answered -> {
                    if (answered.refusal() != null) {
                      answered.delivery().confirmTo().tell(ConsumerController.confirmed());
                      return Behaviors.same();
                    }
                    Assignment a = answered.assignment();
                    String fingerprint = results.size() > 1 ? results.remove(0) : results.get(0);
                    EvaluationWork.Completed completed =
                        new EvaluationWork.Completed(
                            new Scores(0.5, 0.5, 0.5, 0.5, null, 0.5, null, 0.5), Map.of(EvaluationInfo.SCORING_FINGERPRINT, fingerprint), List.of());
                    report(context, dispatcher[0], a, new EvaluationWork.Running(), fingerprint, answered.delivery(),
                        () -> report(context, dispatcher[0], a, completed, fingerprint, answered.delivery(), null));
                    return Behaviors.same();
                  })
              .onMessage(
                  ReportAnswered.class,
                  answered -> {
                    if (answered.next() != null) answered.next().run();
                    else answered.delivery().confirmTo().tell(ConsumerController.confirmed());
                    return Behaviors.same();
                  })
              .build();
        });
  }

  private static void report(
      org.apache.pekko.actor.typed.javadsl.ActorContext<Step> context,
      ActorRef<EvaluationWork.DispatcherCommand> dispatcher,
      Assignment a,
      EvaluationWork.Update update,
      String fingerprint,
      ConsumerController.Delivery<Job> delivery,
      Runnable next) {
    context.askWithStatus(
        Done.class,
        dispatcher,
        Duration.ofSeconds(10),
        replyTo -> new EvaluationWork.Report(a.hash(), a.attempt(), update, fingerprint, replyTo),
        (done, failure) -> new ReportAnswered(delivery, a, next));
  }

  /** A gpu-node role whose one slot follows the script. */
  private static Sn11Node.Role scriptedGpuNode(List<String> claimsUnder, List<String> resultsUnder) {
    return new Sn11Node.Role() {
      @Override
      public String name() {
        return Roles.GPU_NODE;
      }

      @Override
      public void start(ActorSystem<?> system) {
        system.systemActorOf(scriptedSlot(claimsUnder, resultsUnder), "scripted-slot", org.apache.pekko.actor.typed.Props.empty());
      }
    };
  }

  @Test
  void aClaimAndAResultUnderAnotherFingerprintAreRefusedRecordedAndTheModelIsQueuedAgain() throws Exception {
    Map<String, Object> settings =
        Map.of(
            "sn11.coordinator.scoring.required-fingerprint", REQUIRED.id(),
            "sn11.coordinator.dispatch.lease-timeout", "4s",
            "sn11.coordinator.dispatch.heartbeat-interval", "1s",
            "sn11.coordinator.dispatch.poll-interval", "200ms");
    try (ApiNode coordinator =
        ApiNode.start(dir, settings, List.of(scriptedGpuNode(List.of(OTHER, REQUIRED.id()), List.of(OTHER, REQUIRED.id()))))) {
      ApiNode.Model model = ApiNode.model("sn11-demo", "tiny-llama", ApiNode.hotkey("refused-then-completed"), 1_000);
      coordinator.adminPost("/evaluate_model", model.json()).expect(200);

      JsonNode completed =
          ApiNode.await(
              "the model completed by its third offer",
              Duration.ofMinutes(1),
              () -> coordinator.get("/model_submission_details?" + ApiNode.query(model.queryFields())).expect(200).body(),
              details -> details.path("status").asText().equals("COMPLETED"));
      assertEquals(2, completed.path("details").path("attempt").asInt(), "the refused result's attempt and the completed one: " + completed);
      assertEquals(REQUIRED.id(), completed.path("details").path("evaluation").path(EvaluationInfo.SCORING_FINGERPRINT).asText());

      List<JsonNode> events = new ArrayList<>();
      coordinator.get("/models/" + model.hash() + "/events").expect(200).body().path("events").forEach(events::add);
      List<String> types = events.stream().map(e -> e.path("type").asText()).toList();
      assertEquals(
          List.of("Submitted", "ClaimRefused", "PrecheckStarted", "RunningStarted", "Requeued", "PrecheckStarted", "RunningStarted", "EvaluationCompleted"),
          types);
      String claimRefusal = events.get(1).path("event").path("reason").asText();
      assertEquals("claim refused: worker scripted/slot-1 scores under fingerprint " + OTHER + ", required " + REQUIRED.id(), claimRefusal);
      String requeued = events.get(4).path("event").path("reason").asText();
      assertEquals(
          "attempt 1 of 3 failed (infrastructure): result refused: scored under fingerprint " + OTHER + ", required " + REQUIRED.id(), requeued);

      String metrics =
          java.net.http.HttpClient.newHttpClient()
              .send(
                  java.net.http.HttpRequest.newBuilder(java.net.URI.create(coordinator.node().managementUri() + "/metrics")).build(),
                  java.net.http.HttpResponse.BodyHandlers.ofString())
              .body();
      assertTrue(metrics.contains("sn11_fingerprint_refusals_total{kind=\"claim\"} 1.0"), metrics);
      assertTrue(metrics.contains("sn11_fingerprint_refusals_total{kind=\"result\"} 1.0"), metrics);

      JsonNode version = coordinator.get("/scoring/fingerprint").expect(200).body();
      assertEquals(REQUIRED.id(), version.path("required").path("id").asText(), version.toString());
      assertEquals("configured", version.path("required").path("chosen").asText());
      assertEquals(REQUIRED.id(), version.path("configured").asText());
    }
  }
}
