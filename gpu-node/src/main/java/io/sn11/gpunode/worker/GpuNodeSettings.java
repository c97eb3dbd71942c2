package io.sn11.gpunode.worker;

import com.typesafe.config.Config;
import io.sn11.engine.backend.Backends;
import io.sn11.engine.model.ModelLimits;
import io.sn11.gpunode.judge.JudgeSettings;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** The gpu-node role's settings, read once from {@code sn11.gpu-node} and {@code sn11.judge}. */
public record GpuNodeSettings(
    int slots,
    Path modelStore,
    String backend,
    int threads,
    EvaluationSettings evaluation,
    ModelLimits limits,
    Duration progressInterval,
    int reportAttempts,
    Duration reportBackoff,
    Duration reportTimeout,
    HubSettings hub,
    JudgeSettings judge) {

  /**
   * @param dataset JSONL file, or null for the built-in synthetic dataset
   */
  public record EvaluationSettings(
      Path dataset,
      int syntheticConversations,
      long syntheticSeed,
      int samples,
      int maxTokens,
      int batchSize,
      Duration timeout,
      ChildSettings child) {}

  /** The JVM each evaluation runs in: its memory limits and further options. */
  public record ChildSettings(long maxHeapBytes, long maxDirectMemoryBytes, List<String> jvmOptions) {
    public ChildSettings {
      jvmOptions = List.copyOf(jvmOptions);
    }
  }

  public record HubSettings(boolean fetch, URI endpoint, String tokenEnv) {}

  /** Below this an evaluation JVM cannot even start its libraries. */
  private static final long MIN_CHILD_HEAP_BYTES = 32L << 20;

  public static GpuNodeSettings fromConfig(Config root) {
    Config c = root.getConfig("sn11.gpu-node");
    Config e = c.getConfig("evaluation");
    Config hub = c.getConfig("hub");
    Config child = e.getConfig("child");
    Config limits = c.getConfig("limits");
    String dataset = e.getString("dataset");
    GpuNodeSettings settings =
        new GpuNodeSettings(
            c.getInt("slots"),
            Path.of(c.getString("model-store")).toAbsolutePath().normalize(),
            c.getString("backend"),
            c.getInt("threads"),
            new EvaluationSettings(
                dataset.isBlank() ? null : Path.of(dataset),
                e.getInt("synthetic-conversations"),
                e.getLong("synthetic-seed"),
                e.getInt("samples"),
                e.getInt("max-tokens"),
                e.getInt("batch-size"),
                e.getDuration("timeout"),
                new ChildSettings(child.getBytes("max-heap"), child.getBytes("max-direct-memory"), child.getStringList("jvm-options"))),
            limitsFrom(limits),
            c.getDuration("progress-interval"),
            c.getInt("report-attempts"),
            c.getDuration("report-backoff"),
            c.getDuration("report-timeout"),
            new HubSettings(hub.getBoolean("fetch"), URI.create(hub.getString("endpoint")), hub.getString("token-env")),
            JudgeSettings.from(root));
    settings.validate();
    return settings;
  }

  private static ModelLimits limitsFrom(Config limits) {
    try {
      return new ModelLimits(
          limits.getLong("max-parameters"), limits.getInt("max-vocab-size"), limits.getBytes("max-kv-cache"), limits.getBytes("max-activations"));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("sn11.gpu-node.limits: " + e.getMessage(), e);
    }
  }

  private void validate() {
    require(slots > 0, "slots must be > 0");
    require(Backends.NAMES.contains(backend), "backend must be one of " + Backends.NAMES + ", was '" + backend + "'");
    require(threads >= 0, "threads must be >= 0");
    require(evaluation.syntheticConversations() > 0, "evaluation.synthetic-conversations must be > 0");
    require(evaluation.samples() > 0, "evaluation.samples must be > 0");
    require(evaluation.maxTokens() > 1, "evaluation.max-tokens must be > 1");
    require(evaluation.batchSize() > 0, "evaluation.batch-size must be > 0");
    require(positive(evaluation.timeout()), "evaluation.timeout must be > 0");
    require(evaluation.dataset() == null || Files.isReadable(evaluation.dataset()), "evaluation.dataset " + evaluation.dataset() + " is not a readable file");
    require(evaluation.child().maxHeapBytes() >= MIN_CHILD_HEAP_BYTES, "evaluation.child.max-heap must be at least 32m");
    require(evaluation.child().maxDirectMemoryBytes() > 0, "evaluation.child.max-direct-memory must be > 0");
    require(positive(progressInterval), "progress-interval must be > 0");
    require(reportAttempts > 0, "report-attempts must be > 0");
    require(positive(reportBackoff), "report-backoff must be > 0");
    require(positive(reportTimeout), "report-timeout must be > 0");
    require(hub.endpoint().isAbsolute(), "hub.endpoint must be an absolute URL");
  }

  private static boolean positive(Duration d) {
    return !d.isNegative() && !d.isZero();
  }

  private static void require(boolean condition, String message) {
    if (!condition) throw new IllegalArgumentException("sn11.gpu-node." + message);
  }
}
