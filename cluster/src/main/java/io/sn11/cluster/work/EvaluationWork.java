package io.sn11.cluster.work;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.sn11.cluster.CborSerializable;
import io.sn11.cluster.domain.Failure;
import io.sn11.cluster.domain.ModelDetails;
import io.sn11.cluster.domain.Scores;
import io.sn11.cluster.domain.VerdictRecord;
import io.sn11.cluster.scoring.ScoringFingerprint;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.pekko.Done;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.delivery.ConsumerController;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.pattern.StatusReply;

/**
 * The protocol between the coordinator's dispatcher and the gpu-nodes' evaluation workers.
 *
 * <p>Jobs flow with Pekko reliable delivery (work pulling): each worker slot registers a consumer
 * controller under {@link #workerKey} of its node's scoring fingerprint and asks for one job at a time; the
 * dispatcher produces for the required fingerprint's key only, so a slot that scores otherwise is never offered
 * work. A delivered job is only an offer: the worker claims it through the dispatcher, which starts a new attempt
 * in the model's entity and grants a lease. The worker renews the lease with heartbeats and reports progress and
 * the result; everything it sends carries the attempt, so duplicates and late messages of an abandoned attempt are
 * harmless, and its claims and reports carry its fingerprint, which the dispatcher checks again.
 *
 * <p>Each gpu-node also registers one actor under {@link #GPU_NODES_KEY} that describes the node: its fingerprint
 * and its slots.
 */
public final class EvaluationWork {
  private EvaluationWork() {}

  /**
   * Where the worker slots of nodes with scoring fingerprint {@code fingerprintId} offer themselves to the dispatcher's
   * work-pulling producer.
   */
  public static ServiceKey<ConsumerController.Command<Job>> workerKey(String fingerprintId) {
    return ServiceKey.create(ConsumerController.serviceKeyClass(), "sn11-evaluation-workers-" + fingerprintId);
  }

  /** Where each gpu-node's describing actor is found. */
  public static final ServiceKey<NodeCommand> GPU_NODES_KEY = ServiceKey.create(NodeCommand.class, "sn11-gpu-nodes");

  public sealed interface NodeCommand extends CborSerializable {}

  /** Asks a gpu-node what it is. */
  public record DescribeNode(ActorRef<NodeDescription> replyTo) implements NodeCommand {}

  /** A gpu-node's scoring fingerprint and its slots, by the names they use in claims. */
  public record NodeDescription(ScoringFingerprint fingerprint, List<String> slots) implements CborSerializable {
    public NodeDescription {
      slots = List.copyOf(slots);
    }
  }

  /** Where workers find the dispatcher (a cluster singleton on the coordinator role). */
  public static final ServiceKey<DispatcherCommand> DISPATCHER_KEY = ServiceKey.create(DispatcherCommand.class, "sn11-dispatcher");

  private static final String SLOT_ACTOR_PREFIX = "evaluation-slot-";

  /** The actor name of a gpu-node's worker slot {@code slot} (from 1). */
  public static String slotActorName(int slot) {
    return SLOT_ACTOR_PREFIX + slot;
  }

  /** The name a worker slot gives in its claims and heartbeats: its node's host:port and its number. */
  public static String workerName(Address node, int slot) {
    return node.hostPort() + "/slot-" + slot;
  }

  /** An offer of work: the model to evaluate, if it is still queued when the worker claims it. */
  public record Job(String hash) implements CborSerializable {}

  public sealed interface DispatcherCommand extends CborSerializable {}

  /**
   * A worker slot takes a delivered job. Answered with the assignment when the model was still queued and the worker
   * scores under the required fingerprint, else with an error (someone else has it, it finished meanwhile, or the
   * fingerprint differs): the worker drops the job.
   *
   * @param fingerprint the id of the worker's scoring fingerprint; null from a worker that predates fingerprints
   */
  public record Claim(String hash, String worker, ActorRef<?> workerRef, String fingerprint, ActorRef<StatusReply<Assignment>> replyTo)
      implements DispatcherCommand {}

  /** The claimed attempt; the worker renews its lease at least every {@code heartbeatInterval}. */
  public record Assignment(String hash, int attempt, ModelDetails details, Duration heartbeatInterval) implements CborSerializable {}

  /** The worker is alive and still on this attempt. */
  public record Heartbeat(String hash, int attempt, String worker, ActorRef<?> workerRef) implements DispatcherCommand {}

  /**
   * What the worker has to say about its attempt, with the id of the fingerprint it scores under (null from a worker
   * that predates fingerprints); acknowledged once the entity has recorded it. A progress report of an
   * attempt that is over is answered with an error starting with {@link #ATTEMPT_OVER} instead: the worker stops it.
   */
  public record Report(String hash, int attempt, Update update, String fingerprint, ActorRef<StatusReply<Done>> replyTo)
      implements DispatcherCommand {}

  /**
   * How the answer to a progress report starts when its attempt is over (abandoned and re-queued, or superseded by
   * another attempt or an imported result). An error text, which every version reads during a rolling upgrade: an
   * older worker takes it for a lost progress report, as before.
   */
  public static final String ATTEMPT_OVER = "attempt over";

  /** Whether the failed answer to a report says that its attempt is over. */
  public static boolean isAttemptOver(Throwable answer) {
    return answer instanceof StatusReply.ErrorMessage && answer.getMessage().startsWith(ATTEMPT_OVER);
  }

  @JsonTypeInfo(use = JsonTypeInfo.Id.SIMPLE_NAME)
  @JsonSubTypes({
    @JsonSubTypes.Type(Running.class),
    @JsonSubTypes.Type(Progress.class),
    @JsonSubTypes.Type(Completed.class),
    @JsonSubTypes.Type(Failed.class)
  })
  public sealed interface Update extends CborSerializable {
    /** The final update of an attempt; the lease ends with it. */
    default boolean isFinal() {
      return false;
    }
  }

  /** Precheck passed; the evaluation proper starts. */
  public record Running() implements Update {}

  /** The phase of the evaluation and how much of it is done, in [0, 1]. */
  public record Progress(String phase, double fraction) implements Update {}

  /**
   * The scores, with what produced them (content hash, dataset and engine versions, backend, settings),
   * and the judge's verdict on each sample (empty when no judge ran).
   */
  public record Completed(Scores scores, Map<String, String> evaluationInfo, List<VerdictRecord> verdicts) implements Update {
    @Override
    public boolean isFinal() {
      return true;
    }
  }

  public record Failed(Failure failure) implements Update {
    @Override
    public boolean isFinal() {
      return true;
    }
  }
}
