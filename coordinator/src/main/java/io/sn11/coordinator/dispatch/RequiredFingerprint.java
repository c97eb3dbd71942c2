package io.sn11.coordinator.dispatch;

import io.sn11.cluster.node.Roles;
import io.sn11.cluster.work.EvaluationWork;
import io.sn11.coordinator.CoordinatorSettings;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * The {@link Dispatcher}'s knowledge of the scoring fingerprint work must be scored under: it learns it once per
 * dispatcher (configured, recorded in {@link ScoringVersion}, or adopted from the first gpu-node that describes itself;
 * with {@code follow-local-gpu-node}, the gpu-node on the dispatcher's own node, recorded when it changed), tells the
 * dispatcher, then warns about gpu-nodes that score under another one ({@link MismatchWarnings}).
 *
 * <p>Owned by the dispatcher and run inside it: its questions are answered to the dispatcher, which hands the answers
 * back ({@link #on}), and it logs in the dispatcher's log.
 */
final class RequiredFingerprint {

  /** The answers to its questions, which the dispatcher receives and hands back to {@link #on}. */
  sealed interface Answer extends Dispatcher.Command {}

  /** What {@link ScoringVersion} requires, or that it could not be asked (null state). */
  private record VersionAnswered(ScoringVersion.State state) implements Answer {}

  private record NodesListed(Receptionist.Listing listing) implements Answer {}

  private record NodeDescribed(EvaluationWork.NodeDescription description, String node) implements Answer {}

  /** The gpu-nodes to check against the required fingerprint; null when the receptionist did not answer. */
  private record NodesToCheck(Receptionist.Listing listing) implements Answer {}

  /** A gpu-node's answer to the check; null description when it did not answer. */
  private record NodeChecked(EvaluationWork.NodeDescription description, String node) implements Answer {}

  /** How often the gpu-nodes are asked for their fingerprint once the required one is known: a few messages per node. */
  private static final Duration NODE_CHECK_INTERVAL = Duration.ofSeconds(30);

  private final ActorContext<Dispatcher.Command> context;
  private final Duration askTimeout;
  /** Told the required fingerprint's id, once, when it is known. */
  private final Consumer<String> whenKnown;
  private final String configuredFingerprint;
  /** Whether the required fingerprint is the one of the gpu-node on this node (and none is configured). */
  private final boolean followsLocalGpuNode;
  /** The fingerprint work must be scored under, with its components when known (for the warnings); null until known. */
  private ScoringVersion.Requirement requirement;
  /** What {@link ScoringVersion} required when this dispatcher started; null when nothing or not read yet. */
  private ScoringVersion.Requirement recorded;
  /** Whether {@link ScoringVersion} has answered since this dispatcher started (until then nothing is adopted). */
  private boolean versionRead;
  /** A question to {@link ScoringVersion}, the receptionist or a gpu-node is in flight. */
  private boolean asking;
  private final MismatchWarnings mismatchWarnings = new MismatchWarnings();
  /** When the gpu-nodes were last checked against the required fingerprint; null: not yet. */
  private Instant lastNodeCheck;
  private boolean listingNodesToCheck;

  RequiredFingerprint(ActorContext<Dispatcher.Command> context, CoordinatorSettings settings, Consumer<String> whenKnown) {
    this.context = context;
    this.askTimeout = settings.askTimeout();
    this.whenKnown = whenKnown;
    this.configuredFingerprint = settings.requiredFingerprint();
    this.followsLocalGpuNode =
        settings.followLocalGpuNode()
            && configuredFingerprint == null
            && Cluster.get(context.getSystem()).selfMember().hasRole(Roles.GPU_NODE);
  }

  /** At every tick of the dispatcher: learns the required fingerprint until it is known, then checks the gpu-nodes. */
  void onTick(Instant now) {
    if (requirement == null) learn();
    else checkNodes(now);
  }

  void on(Answer answer) {
    switch (answer) {
      case VersionAnswered answered -> onVersionAnswered(answered);
      case NodesListed listed -> onNodesListed(listed);
      case NodeDescribed described -> onNodeDescribed(described);
      case NodesToCheck toCheck -> onNodesToCheck(toCheck);
      case NodeChecked checked -> onNodeChecked(checked);
    }
  }

  // ---- learning it --------------------------------------------------------------------------------

  /**
   * Until the required fingerprint is known, at every tick: first what {@link ScoringVersion} records (with the
   * configured one); when nothing is, the fingerprint of a gpu-node, adopted (the first one to be up; of several up at
   * once, the one first by address). When following the local gpu-node, its fingerprint, whatever is recorded. A
   * question that fails is asked again at the next tick.
   */
  private void learn() {
    if (asking) return;
    asking = true;
    if (!versionRead) {
      askVersion(replyTo -> new ScoringVersion.Configure(configuredFingerprint, replyTo));
    } else {
      // Found, not subscribed to: a subscription through the dispatcher's message adapter would clash with its registration.
      context.ask(
          Receptionist.Listing.class,
          context.getSystem().receptionist(),
          askTimeout,
          replyTo -> Receptionist.find(EvaluationWork.GPU_NODES_KEY, replyTo),
          (listing, failure) -> new NodesListed(failure == null ? listing : null));
    }
  }

  private void askVersion(Function<ActorRef<ScoringVersion.State>, ScoringVersion.Command> command) {
    context.pipeToSelf(
        ScoringVersion.entity(context.getSystem()).ask(command::apply, askTimeout),
        (state, failure) -> {
          if (failure != null) context.getLog().warn("the required scoring fingerprint could not be read: {}", failure.getMessage());
          return new VersionAnswered(failure == null ? state : null);
        });
  }

  private void onVersionAnswered(VersionAnswered answered) {
    asking = false;
    if (answered.state() == null || requirement != null) return;
    if (!versionRead) {
      versionRead = true;
      recorded = answered.state().required();
      if (followsLocalGpuNode) return; // the local gpu-node's fingerprint decides, once it describes itself
    }
    requirement = answered.state().required();
    if (requirement == null) return;
    String required = requirement.id();
    if (followsLocalGpuNode && recorded != null && !recorded.id().equals(required)) {
      String old = recorded.id();
      context
          .getLog()
          .info(
              "scoring fingerprint " + required + " is required now instead of " + old + ": the gpu-node on this node scores under it"
                  + " (a setting that shapes scores changed). Models scored under " + old + " keep their scores; to score them under "
                  + required + ": POST /admin/rescore {\"fingerprint\": \"" + required + "\"}, e.g. curl -s -X POST http://<api>/admin/rescore"
                  + " -H \"Authorization: Bearer $T\" -H 'Content-Type: application/json' -d '{\"fingerprint\":\"" + required + "\"}'");
    } else {
      context.getLog().info("scoring fingerprint {} is required: offering work to its gpu-nodes", required);
    }
    whenKnown.accept(required);
  }

  private void onNodesListed(NodesListed listed) {
    Optional<ActorRef<EvaluationWork.NodeCommand>> first =
        listed.listing() == null
            ? Optional.empty()
            : followsLocalGpuNode
                ? listed.listing().getServiceInstances(EvaluationWork.GPU_NODES_KEY).stream().filter(node -> node.path().address().hasLocalScope()).findFirst()
                : listed.listing().getServiceInstances(EvaluationWork.GPU_NODES_KEY).stream().min(Comparator.comparing(this::hostPort));
    if (first.isEmpty()) {
      asking = false; // none yet: the next tick looks again
      return;
    }
    String node = hostPort(first.get());
    context.ask(
        EvaluationWork.NodeDescription.class,
        first.get(),
        askTimeout,
        EvaluationWork.DescribeNode::new,
        (description, failure) -> new NodeDescribed(failure == null ? description : null, node));
  }

  private void onNodeDescribed(NodeDescribed described) {
    if (requirement != null || described.description() == null) { // a node gone or slow: the next tick asks again
      asking = false;
      return;
    }
    EvaluationWork.NodeDescription description = described.description();
    askVersion(
        followsLocalGpuNode
            ? replyTo -> new ScoringVersion.Follow(description.fingerprint(), described.node(), replyTo)
            : replyTo -> new ScoringVersion.Adopt(description.fingerprint(), described.node(), replyTo));
  }

  // ---- checking the gpu-nodes against it ----------------------------------------------------------

  /**
   * Once the required fingerprint is known, every {@link #NODE_CHECK_INTERVAL}: each gpu-node is asked for its
   * fingerprint, and one that scores otherwise is warned about, once per node and fingerprint.
   */
  private void checkNodes(Instant now) {
    if (listingNodesToCheck || (lastNodeCheck != null && now.isBefore(lastNodeCheck.plus(NODE_CHECK_INTERVAL)))) return;
    listingNodesToCheck = true;
    lastNodeCheck = now;
    context.ask(
        Receptionist.Listing.class,
        context.getSystem().receptionist(),
        askTimeout,
        replyTo -> Receptionist.find(EvaluationWork.GPU_NODES_KEY, replyTo),
        (listing, failure) -> new NodesToCheck(failure == null ? listing : null));
  }

  private void onNodesToCheck(NodesToCheck toCheck) {
    listingNodesToCheck = false;
    if (toCheck.listing() == null) return; // the next check asks again
    Set<ActorRef<EvaluationWork.NodeCommand>> nodes = toCheck.listing().getServiceInstances(EvaluationWork.GPU_NODES_KEY);
    mismatchWarnings.retainNodes(nodes.stream().map(this::hostPort).collect(Collectors.toSet()));
    for (ActorRef<EvaluationWork.NodeCommand> node : nodes) {
      String where = hostPort(node);
      context.ask(
          EvaluationWork.NodeDescription.class,
          node,
          askTimeout,
          EvaluationWork.DescribeNode::new,
          (description, failure) -> new NodeChecked(failure == null ? description : null, where));
    }
  }

  private void onNodeChecked(NodeChecked checked) {
    if (checked.description() != null) {
      mismatchWarnings.check(checked.node(), checked.description().fingerprint(), requirement).ifPresent(context.getLog()::warn);
    }
  }

  /** Where an actor runs: host and port, this node's for a local one. */
  private String hostPort(ActorRef<?> actor) {
    return actor.path().address().hasLocalScope() ? context.getSystem().address().hostPort() : actor.path().address().hostPort();
  }
}
