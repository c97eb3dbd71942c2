package io.sn11.launcher;

import com.typesafe.config.Config;
import io.sn11.cluster.node.NodeConfig;
import io.sn11.cluster.node.Sn11Node;
import io.sn11.coordinator.CoordinatorRole;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sn11 serve}: every role in one JVM on an embedded H2 database. */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = {
      "Run a single node with every role: the HTTP API, the evaluations and the read side, on an embedded H2 database under the data folder.",
      "Ctrl-C stops it cleanly; everything is kept and comes back at the next start."
    })
final class ServeCommand implements Callable<Integer> {
  @Option(names = "--data-dir", defaultValue = "./data", description = "Folder for the database and the admin token (default: ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(names = "--http-host", defaultValue = "127.0.0.1", description = "Address the HTTP API listens on (default: ${DEFAULT-VALUE}).")
  String httpHost;

  @Option(names = "--http-port", defaultValue = "8080", description = "Port of the HTTP API; 0 picks a free one (default: ${DEFAULT-VALUE}).")
  int httpPort;

  @Option(names = "--config", description = "A HOCON file whose settings override the defaults (see config/).")
  Path configFile;

  @Override
  public Integer call() throws Exception {
    Path data = dataDir.toAbsolutePath().normalize();
    Map<String, Object> options = new HashMap<>();
    options.put("sn11.data-dir", data.toString());
    options.put("sn11.coordinator.http.host", httpHost);
    options.put("sn11.coordinator.http.port", httpPort);
    options.put("sn11.coordinator.admin-tokens", List.of(AdminToken.forServer(data)));
    Config config = NodeConfig.load(options, configFile, "single-node.conf");

    CoordinatorRole coordinator = new CoordinatorRole();
    Sn11Node node = Sn11Node.start(config, List.of(coordinator));
    InetSocketAddress address = coordinator.httpAddress();
    System.out.printf(
        "SN11 is serving on http://%s:%d (data in %s; admin token in %s). Ctrl-C stops it.%n",
        address.getHostString(), address.getPort(), data, System.getenv(AdminToken.ENV) != null ? "$" + AdminToken.ENV : AdminToken.file(data));
    System.out.flush();
    node.system().getWhenTerminated().toCompletableFuture().join();
    return 0;
  }
}
