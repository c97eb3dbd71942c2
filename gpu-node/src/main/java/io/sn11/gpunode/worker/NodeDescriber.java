package io.sn11.gpunode.worker;

import io.sn11.cluster.work.EvaluationWork;
import io.sn11.cluster.work.EvaluationWork.DescribeNode;
import io.sn11.cluster.work.EvaluationWork.NodeCommand;
import io.sn11.cluster.work.EvaluationWork.NodeDescription;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * Announces a gpu-node to the coordinators: registered under {@link EvaluationWork#GPU_NODES_KEY}, it answers with the
 * node's scoring fingerprint and slots, so that the first node's fingerprint can be adopted and {@code /nodes} can show
 * every node's, matching or not.
 */
final class NodeDescriber {
  private NodeDescriber() {}

  static Behavior<NodeCommand> create(NodeDescription description) {
    return Behaviors.setup(
        context -> {
          context.getSystem().receptionist().tell(Receptionist.register(EvaluationWork.GPU_NODES_KEY, context.getSelf()));
          return Behaviors.receive(NodeCommand.class)
              .onMessage(
                  DescribeNode.class,
                  describe -> {
                    describe.replyTo().tell(description);
                    return Behaviors.same();
                  })
              .build();
        });
  }
}
