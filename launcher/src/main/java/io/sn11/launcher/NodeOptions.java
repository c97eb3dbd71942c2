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

  @Option(names = "--model-store", paramLabel = "DIR", description = "Hugging Face model folders, at DIR/<namespace>/<name>/<revision> (default: <data-dir>/models).")
  Path modelStore;

  @Option(names = "--slots", paramLabel = "N", description = "Evaluations this node runs at once (default: sn11.gpu-node.slots, 1).")
  Integer slots;

  @Option(names = "--backend", paramLabel = "NAME", description = "Inference backend: auto, cpu or cuda (default: sn11.gpu-node.backend, auto).")
  String backend;

  Path data() {
    return dataDir.toAbsolutePath().normalize();
  }

  /** The settings these options give, for the node's configuration. */
  void putInto(Map<String, Object> options) {
    options.put("sn11.data-dir", data().toString());
    if (modelStore != null) options.put("sn11.gpu-node.model-store", modelStore.toAbsolutePath().normalize().toString());
    if (slots != null) options.put("sn11.gpu-node.slots", slots);
    if (backend != null) options.put("sn11.gpu-node.backend", backend);
  }
}
