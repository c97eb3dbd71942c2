package io.sn11.coordinator.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.sn11.cluster.work.EvaluationWork;
import io.sn11.cluster.work.EvaluationWork.Assignment;
import io.sn11.cluster.work.EvaluationWork.DispatcherCommand;
import io.sn11.cluster.work.EvaluationWork.Job;
import java.time.Duration;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.delivery.ConsumerController;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.pattern.StatusReply;

/**
 * One worker slot played by the test, on a node's actor system: it offers itself to the dispatcher under its scoring
 * fingerprint's key, as a gpu-node's slot does, and the test takes each offered job, claims it and reports on it.
 */
final class TestWorker {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private final ActorSystem<?> system;
  private final ActorRef<Object> self;
  private final String fingerprint;
  private final BlockingQueue<ConsumerController.Delivery<Job>> deliveries = new LinkedBlockingQueue<>();

  @SuppressWarnings("unchecked")
  private TestWorker(ActorSystem<?> system, String fingerprint) {
    this.system = system;
    this.fingerprint = fingerprint;
    Behavior<Object> slot =
        Behaviors.setup(
            context -> {
              ActorRef<ConsumerController.Command<Job>> consumer = context.spawn(ConsumerController.create(EvaluationWork.workerKey(fingerprint)), "jobs");
              ActorRef<ConsumerController.Delivery<Job>> delivered = context.messageAdapter(ConsumerController.deliveryClass(), d -> d);
              consumer.tell(new ConsumerController.Start<>(delivered));
              return Behaviors.receiveMessage(
                  message -> {
                    deliveries.add((ConsumerController.Delivery<Job>) message);
                    return Behaviors.same();
                  });
            });
    this.self = system.systemActorOf(slot, "test-worker-" + UUID.randomUUID(), Props.empty());
  }

  /** A slot of a gpu-node that scores under the fingerprint {@code fingerprint} (its id). */
  static TestWorker on(ActorSystem<?> system, String fingerprint) {
    return new TestWorker(system, fingerprint);
  }

  /** Waits for the dispatcher's next offer, which must be {@code hash}, and claims it: the attempt it was assigned. */
  Assignment claimNext(String hash) throws Exception {
    ConsumerController.Delivery<Job> delivery = deliveries.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertNotNull(delivery, "no job offered within " + WAIT);
    delivery.confirmTo().tell(ConsumerController.confirmed());
    assertEquals(hash, delivery.message().hash(), "the job offered");
    ActorRef<DispatcherCommand> dispatcher = dispatcher();
    return AskPattern.<DispatcherCommand, StatusReply<Assignment>>ask(
            dispatcher, replyTo -> new EvaluationWork.Claim(hash, "test-worker/slot-1", self, fingerprint, replyTo), WAIT, system.scheduler())
        .toCompletableFuture()
        .get()
        .getValue();
  }

  /** Reports {@code update} on the assignment, and waits until the model's entity has recorded it. */
  void report(Assignment assignment, EvaluationWork.Update update) throws Exception {
    StatusReply<Done> answer =
        AskPattern.<DispatcherCommand, StatusReply<Done>>ask(
                dispatcher(), replyTo -> new EvaluationWork.Report(assignment.hash(), assignment.attempt(), update, fingerprint, replyTo), WAIT, system.scheduler())
            .toCompletableFuture()
            .get();
    assertEquals(StatusReply.ack(), answer, "the report was recorded");
  }

  private ActorRef<DispatcherCommand> dispatcher() throws Exception {
    Set<ActorRef<DispatcherCommand>> found =
        ApiNode.await(
            "the dispatcher registered",
            () ->
                AskPattern.<Receptionist.Command, Receptionist.Listing>ask(
                        system.receptionist(), replyTo -> Receptionist.find(EvaluationWork.DISPATCHER_KEY, replyTo), WAIT, system.scheduler())
                    .toCompletableFuture()
                    .get()
                    .getServiceInstances(EvaluationWork.DISPATCHER_KEY),
            listing -> !listing.isEmpty());
    return found.iterator().next();
  }
}
