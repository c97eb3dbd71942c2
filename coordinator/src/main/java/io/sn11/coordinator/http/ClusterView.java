package io.sn11.coordinator.http;

import io.sn11.cluster.scoring.ScoringFingerprint;
import io.sn11.cluster.work.EvaluationWork;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.stream.Collectors;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * The cluster as this node sees it: every member with its roles, status and reachability, and what each gpu-node
 * says of itself: its scoring fingerprint and its worker slots (by the names they use in claims).
 */
final class ClusterView {
  private ClusterView() {}

  /** @param fingerprint null for a member that is no gpu-node, or one that did not answer in time */
  record Node(String address, List<String> roles, String status, boolean reachable, List<String> slots, ScoringFingerprint fingerprint) {}

  static CompletionStage<List<Node>> nodes(ActorSystem<?> system, Duration timeout) {
    Cluster cluster = Cluster.get(system);
    Address self = cluster.selfMember().address();
    return AskPattern.<Receptionist.Command, Receptionist.Listing>ask(
            system.receptionist(), replyTo -> Receptionist.find(EvaluationWork.GPU_NODES_KEY, replyTo), timeout, system.scheduler())
        .thenCompose(
            listing -> {
              List<CompletableFuture<Map.Entry<Address, EvaluationWork.NodeDescription>>> described = new ArrayList<>();
              for (ActorRef<EvaluationWork.NodeCommand> gpuNode : listing.getServiceInstances(EvaluationWork.GPU_NODES_KEY)) {
                // An actor on this very node has a local path, without host and port.
                Address node = gpuNode.path().address().hasLocalScope() ? self : gpuNode.path().address();
                described.add(
                    AskPattern.<EvaluationWork.NodeCommand, EvaluationWork.NodeDescription>ask(gpuNode, EvaluationWork.DescribeNode::new, timeout, system.scheduler())
                        .<Map.Entry<Address, EvaluationWork.NodeDescription>>thenApply(description -> Map.entry(node, description))
                        .exceptionally(silent -> null) // shown without its fingerprint and slots
                        .toCompletableFuture());
              }
              return CompletableFuture.allOf(described.toArray(CompletableFuture[]::new))
                  .thenApply(
                      done -> {
                        Map<Address, EvaluationWork.NodeDescription> descriptions =
                            described.stream().map(CompletableFuture::join).filter(java.util.Objects::nonNull).collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue, (a, b) -> a));
                        return members(cluster, descriptions);
                      });
            });
  }

  private static List<Node> members(Cluster cluster, Map<Address, EvaluationWork.NodeDescription> descriptions) {
    java.util.Set<Member> unreachable = cluster.state().getUnreachable();
    List<Node> nodes = new ArrayList<>();
    for (Member member : cluster.state().getMembers()) {
      List<String> roles = member.getRoles().stream().filter(role -> !role.startsWith("dc-")).sorted().collect(Collectors.toList());
      EvaluationWork.NodeDescription description = descriptions.get(member.address());
      nodes.add(
          new Node(
              member.address().hostPort(),
              roles,
              member.status().toString(),
              !unreachable.contains(member),
              description == null ? List.of() : description.slots().stream().sorted().toList(),
              description == null ? null : description.fingerprint()));
    }
    nodes.sort(Comparator.comparing(Node::address));
    return nodes;
  }
}
