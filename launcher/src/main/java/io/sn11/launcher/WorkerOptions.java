package io.sn11.launcher;

import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/** Options of the commands that run evaluation workers (mixed in with @Mixin). */
final class WorkerOptions {
  @Option(names = "--model-store", paramLabel = "DIR", description = "Hugging Face model folders, at DIR/<namespace>/<name>/<revision> (default: <data-dir>/models).")
  Path modelStore;

  @Option(names = "--slots", paramLabel = "N", description = "Evaluations this node runs at once (default: sn11.gpu-node.slots, 1).")
  Integer slots;

  @Option(names = "--backend", paramLabel = "NAME", description = "Inference backend: auto, cpu (SIMD), scalar (the plain-Java reference) or cuda (default: sn11.gpu-node.backend, auto).")
  String backend;

  void putInto(Map<String, Object> options) {
    if (modelStore != null) options.put("sn11.gpu-node.model-store", modelStore.toAbsolutePath().normalize().toString());
    if (slots != null) options.put("sn11.gpu-node.slots", slots);
    if (backend != null) options.put("sn11.gpu-node.backend", backend);
  }
}
