package io.sn11.launcher;

import com.typesafe.config.Config;
import io.sn11.cluster.node.NodeConfig;
import io.sn11.cluster.node.Sn11Node;
import io.sn11.gpunode.worker.GpuNodeRole;
import io.sn11.gpunode.worker.GpuNodeSettings;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.pekko.cluster.typed.Cluster;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code sn11 gpu-node}: a node that only evaluates, joined to a coordinator's cluster. */
@Command(
    name = "gpu-node",
    mixinStandardHelpOptions = true,
    description = {
      "Run a node with the gpu-node role only: evaluation workers that pull queued models from the coordinator's dispatcher.",
      "It joins the cluster through a seed node, for instance the address ./sn11 serve prints."
    })
final class GpuNodeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin NodeOptions node;
  @Mixin ClusterOptions cluster;
  @Mixin WorkerOptions worker;

  @Override
  public Integer call() throws Exception {
    Map<String, Object> options = new HashMap<>();
    node.putInto(options);
    cluster.putInto(options);
    worker.putInto(options);
    Config config = NodeConfig.load(options, node.configFile, "gpu-node.conf");
    if (config.getStringList("pekko.cluster.seed-nodes").isEmpty()) {
      throw new ParameterException(spec.commandLine(), "a gpu-node joins a coordinator's cluster: give --seed-node ADDRESS (./sn11 serve prints its address)");
    }
    GpuNodeSettings settings = GpuNodeSettings.fromConfig(config);
    Sn11Node running = Sn11Node.start(config, List.of(new GpuNodeRole()));
    return Foreground.run(
        running,
        String.format(
        "gpu-node %s: %d slot(s), backend %s, model store %s; joining %s; health and membership on %s. Ctrl-C stops it.",
        Cluster.get(running.system()).selfMember().address(), settings.slots(), settings.backend(), settings.modelStore(), config.getStringList("pekko.cluster.seed-nodes"), running.managementUri()));
  }
}
