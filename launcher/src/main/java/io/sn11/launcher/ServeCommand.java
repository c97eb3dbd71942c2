package io.sn11.launcher;

import com.typesafe.config.Config;
import io.sn11.cluster.node.NodeConfig;
import io.sn11.cluster.node.Sn11Node;
import io.sn11.coordinator.CoordinatorRole;
import io.sn11.gpunode.judge.JudgeSettings;
import io.sn11.gpunode.store.DemoModels;
import io.sn11.gpunode.store.ModelStore;
import io.sn11.gpunode.worker.GpuNodeRole;
import io.sn11.gpunode.worker.GpuNodeSettings;
import java.net.InetSocketAddress;
import org.apache.pekko.cluster.typed.Cluster;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code sn11 serve}: every role in one JVM on an embedded H2 database. */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = {
      "Run a single node with every role: the HTTP API, the read side and an evaluation worker (gpu-node role), on an embedded H2 database under the data folder.",
      "The model store gets tiny demo models (sn11-demo/tiny-llama, tiny-mistral, tiny-qwen2) that any submission can name.",
      "Judging: the offline heuristic unless a judge model is configured or named with --judge-model (demo: a tiny random-weight judge, sn11-demo/tiny-judge).",
      "Ctrl-C stops it cleanly; everything is kept and comes back at the next start."
    })
final class ServeCommand implements Callable<Integer> {
  @Mixin NodeOptions node;
  @Mixin HttpOptions http;
  @Mixin WorkerOptions worker;
  @Mixin JudgeOptions judge;

  @Override
  public Integer call() throws Exception {
    Path data = node.data();
    Map<String, Object> options = new HashMap<>();
    node.putInto(options);
    http.putInto(options, data);
    worker.putInto(options);
    judge.putInto(options);
    Config config = NodeConfig.load(options, node.configFile, "single-node.conf");
    Path modelStore = GpuNodeSettings.fromConfig(config).modelStore();
    List<String> demoModels = DemoModels.ensure(new ModelStore(modelStore));
    judge.ensureDemoJudge(new ModelStore(modelStore));
    JudgeSettings judgeSettings = JudgeSettings.from(config);
    String judging = judgeSettings.kind() == JudgeSettings.Kind.ENGINE
        ? "the engine judge " + judgeSettings.engine().describe()
        : judgeSettings.kind().name().toLowerCase(java.util.Locale.ROOT) + " judge (--judge-model demo|DIR|NAMESPACE/NAME judges with a model)";

    CoordinatorRole coordinator = new CoordinatorRole();
    Sn11Node running = Sn11Node.start(config, List.of(coordinator, new GpuNodeRole()));
    InetSocketAddress address = coordinator.httpAddress();
    String where =
        String.format(
            "SN11 is serving on http://%s:%d (data in %s; admin token in %s). Ctrl-C stops it.",
            address.getHostString(), address.getPort(), data, System.getenv(AdminToken.ENV) != null ? "$" + AdminToken.ENV : AdminToken.file(data));
    return Foreground.run(running, where + System.lineSeparator() + String.format(
        "Evaluating on this node from the model store %s; demo models ready to submit: %s; judging with the %s.%n"
            + "Cluster address %s: more gpu-nodes join with ./sn11 gpu-node --seed-node %s%n"
            + "Health checks and cluster membership on %s (/ready, /alive, /cluster/members).",
        modelStore, String.join(", ", demoModels), judging, Cluster.get(running.system()).selfMember().address(), Cluster.get(running.system()).selfMember().address(),
        running.managementUri()));
  }
}
