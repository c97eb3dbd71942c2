package io.sn11.launcher;

import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/** Options of every command that runs a cluster node (mixed in with @Mixin). */
final class NodeOptions {
  @Option(names = "--data-dir", defaultValue = "./data", description = "Folder for the node's data: database, admin token, model store (default: ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(names = "--config", description = "A HOCON file whose settings override the defaults (see config/).")
  Path configFile;

  Path data() {
    return dataDir.toAbsolutePath().normalize();
  }

  void putInto(Map<String, Object> options) {
    options.put("sn11.data-dir", data().toString());
  }
}
