package io.sn11.launcher;

import io.sn11.cluster.node.NodeConfig;
import io.sn11.cluster.node.Sn11Node;
import io.sn11.coordinator.http.ApiNode;
import io.sn11.engine.safetensors.DType;
import io.sn11.engine.tiny.TinyModels;
import io.sn11.gpunode.worker.GpuNodeRole;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * A coordinator node with short dispatch timings, and gpu-nodes joined to it, each its own actor system
 * in this JVM over loopback. The gpu-nodes evaluate a model store holding the tiny llama
 * ({@code sn11-demo/tiny-llama}) with the real engine on the cpu backend, a few short samples each.
 */
final class TestCluster implements AutoCloseable {
  final ApiNode coordinator;
  private final Path dir;
  private final Path store;
  private final String seedNode;

  private TestCluster(ApiNode coordinator, Path dir, Path store) {
    this.coordinator = coordinator;
    this.dir = dir;
    this.store = store;
    this.seedNode = Cluster.get(coordinator.node().system()).selfMember().address().toString();
  }

  static TestCluster start(Path dir) throws Exception {
    Path store = dir.resolve("models");
    TinyModels.write(store.resolve("sn11-demo/tiny-llama/main"), TinyModels.Arch.LLAMA, DType.BF16, 1);
    Map<String, Object> settings = new LinkedHashMap<>();
    settings.put("sn11.coordinator.dispatch.lease-timeout", "4s");
    settings.put("sn11.coordinator.dispatch.heartbeat-interval", "1s");
    settings.put("sn11.coordinator.dispatch.poll-interval", "200ms");
    settings.put("pekko.cluster.jmx.multi-mbeans-in-same-jvm", "on");
    return new TestCluster(ApiNode.start(dir.resolve("coordinator"), settings, List.of()), dir, store);
  }

  /** A gpu-node joined to the coordinator, evaluating with {@code role}'s evaluator. */
  Sn11Node startGpuNode(String name, GpuNodeRole role) throws Exception {
    return startGpuNode(name, role, Map.of());
  }

  /** As above, with {@code settings} on top of the test's. */
  Sn11Node startGpuNode(String name, GpuNodeRole role, Map<String, Object> settings) throws Exception {
    Map<String, Object> options = new LinkedHashMap<>();
    options.put("sn11.data-dir", dir.resolve(name).toString());
    options.put("pekko.cluster.seed-nodes", List.of(seedNode));
    options.put("pekko.cluster.jmx.multi-mbeans-in-same-jvm", "on");
    options.put("sn11.gpu-node.model-store", store.toString());
    options.put("sn11.gpu-node.hub.fetch", false);
    options.put("sn11.gpu-node.evaluation.samples", 4);
    options.put("sn11.gpu-node.threads", 1);
    options.put("sn11.gpu-node.backend", "cpu");
    options.put("sn11.judge.generation.max-new-tokens", 24);
    options.put("sn11.gpu-node.progress-interval", "200ms");
    options.putAll(settings);
    return Sn11Node.start(NodeConfig.load(options, null, "single-node.conf"), List.of(role));
  }

  /** Puts a random-weight llama of {@code shape} into the model store as {@code sn11-demo/<name>}. */
  void addModel(String name, TinyModels.Shape shape) throws Exception {
    TinyModels.write(store.resolve("sn11-demo").resolve(name).resolve("main"), TinyModels.Arch.LLAMA, DType.BF16, 1, shape);
  }

  /** The gpu-nodes' model store. */
  io.sn11.gpunode.store.ModelStore modelStore() {
    return new io.sn11.gpunode.store.ModelStore(store);
  }

  @Override
  public void close() throws Exception {
    coordinator.close();
  }
}
