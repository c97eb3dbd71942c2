package io.sn11.launcher;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/** Where a node of a multi-node cluster listens and whom it joins (mixed in with @Mixin). */
final class ClusterOptions {
  static final String SEED_NODES_ENV = "SN11_SEED_NODES";

  @Option(names = "--seed-node", paramLabel = "ADDRESS", description = "A cluster node to join, e.g. pekko://sn11@10.0.0.1:25520 (repeatable; default: env SN11_SEED_NODES, comma-separated, else pekko.cluster.seed-nodes).")
  List<String> seedNodes;

  @Option(names = "--host", defaultValue = "${env:SN11_HOST}", description = "Address other nodes reach this one at (env SN11_HOST; else the configuration's, default: 127.0.0.1).")
  String host;

  @Option(names = "--port", defaultValue = "${env:SN11_PORT}", description = "Cluster port of this node (default: the role's file in config/; env SN11_PORT).")
  Integer port;

  @Option(names = "--management-port", defaultValue = "${env:SN11_MANAGEMENT_PORT}", description = "Port of the health checks (/ready, /alive) and GET /cluster/members; 0 picks a free one (default: 8558; env SN11_MANAGEMENT_PORT; host: env SN11_MANAGEMENT_HOST, default 127.0.0.1).")
  Integer managementPort;

  void putInto(Map<String, Object> options) {
    if (host != null) options.put("pekko.remote.artery.canonical.hostname", host);
    if (port != null) options.put("pekko.remote.artery.canonical.port", port);
    if (managementPort != null) options.put("pekko.management.http.port", managementPort);
    List<String> seeds = seedNodes != null ? seedNodes : fromEnvironment();
    if (!seeds.isEmpty()) options.put("pekko.cluster.seed-nodes", seeds);
  }

  private static List<String> fromEnvironment() {
    String value = System.getenv(SEED_NODES_ENV);
    if (value == null || value.isBlank()) return List.of();
    return Arrays.stream(value.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }
}
