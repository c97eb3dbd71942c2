package io.sn11.coordinator.http;

import io.sn11.cluster.work.EvaluationWork;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletionStage;
import java.util.stream.Collectors;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * The cluster as this node sees it: every member with its roles, status and reachability, and the
 * worker slots each gpu-node has registered for work (by the names they use in claims).
 */
final class ClusterView {
  private ClusterView() {}

  record Node(String address, List<String> roles, String status, boolean reachable, List<String> slots) {}

  static CompletionStage<List<Node>> nodes(ActorSystem<?> system, Duration timeout) {
    Cluster cluster = Cluster.get(system);
    return AskPattern.<Receptionist.Command, Receptionist.Listing>ask(
            system.receptionist(), replyTo -> Receptionist.find(EvaluationWork.WORKER_KEY, replyTo), timeout, system.scheduler())
        .thenApply(
            listing -> {
              Address self = cluster.selfMember().address();
              Map<Address, Set<String>> slots = new HashMap<>();
              listing
                  .getServiceInstances(EvaluationWork.WORKER_KEY)
                  .forEach(
                      consumer -> {
                        // A slot on this very node has a local path, without host and port.
                        Address node = consumer.path().address().hasLocalScope() ? self : consumer.path().address();
                        EvaluationWork.workerNameOf(consumer, node).ifPresent(name -> slots.computeIfAbsent(node, n -> new TreeSet<>()).add(name));
                      });
              Set<Member> unreachable = cluster.state().getUnreachable();
              List<Node> nodes = new ArrayList<>();
              for (Member member : cluster.state().getMembers()) {
                List<String> roles = member.getRoles().stream().filter(role -> !role.startsWith("dc-")).sorted().collect(Collectors.toList());
                nodes.add(
                    new Node(
                        member.address().hostPort(),
                        roles,
                        member.status().toString(),
                        !unreachable.contains(member),
                        List.copyOf(slots.getOrDefault(member.address(), Set.of()))));
              }
              nodes.sort(Comparator.comparing(Node::address));
              return nodes;
            });
  }
}
