package io.sn11.launcher;

import com.typesafe.config.Config;
import io.sn11.cluster.node.NodeConfig;
import io.sn11.cluster.node.Sn11Node;
import io.sn11.coordinator.CoordinatorRole;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.pekko.cluster.typed.Cluster;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code sn11 coordinator}: a node with the coordinator role only, one of the cluster's HTTP front doors. */
@Command(
    name = "coordinator",
    mixinStandardHelpOptions = true,
    description = {
      "Run a node with the coordinator role only: the HTTP API, the model entities, the read side and the dispatcher.",
      "Several coordinators share one PostgreSQL database (--config config/postgres.conf or SN11_DB_URL); the first seed node starts the cluster."
    })
final class CoordinatorCommand implements Callable<Integer> {
  @Mixin NodeOptions node;
  @Mixin ClusterOptions cluster;
  @Mixin HttpOptions http;

  @Override
  public Integer call() throws Exception {
    Map<String, Object> options = new HashMap<>();
    node.putInto(options);
    cluster.putInto(options);
    http.putInto(options, node.data());
    Config config = NodeConfig.load(options, node.configFile, "coordinator.conf");
    CoordinatorRole coordinator = new CoordinatorRole();
    Sn11Node running = Sn11Node.start(config, List.of(coordinator));
    InetSocketAddress address = coordinator.httpAddress();
    return Foreground.run(
        running,
        String.format(
        "SN11 coordinator %s is serving on http://%s:%d (seed nodes %s; health and membership on %s). Ctrl-C stops it.",
        Cluster.get(running.system()).selfMember().address(), address.getHostString(), address.getPort(), config.getStringList("pekko.cluster.seed-nodes"), running.managementUri()));
  }
}
