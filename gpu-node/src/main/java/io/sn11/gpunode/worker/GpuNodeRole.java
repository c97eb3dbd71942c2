package io.sn11.gpunode.worker;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import io.sn11.cluster.domain.JudgeIdentity;
import io.sn11.cluster.node.Roles;
import io.sn11.cluster.node.Sn11Node;
import io.sn11.cluster.scoring.ScoringFingerprint;
import io.sn11.cluster.scoring.ScoringSettings;
import io.sn11.cluster.work.EvaluationWork;
import io.sn11.engine.backend.Backends;
import io.sn11.gpunode.judge.Judge;
import io.sn11.gpunode.store.HubClient;
import io.sn11.gpunode.store.ModelStore;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.cluster.typed.Cluster;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gpu-node role: as many {@link WorkerSlot}s as the node has devices (cpu backend: the configured
 * number), each pulling evaluations from the coordinator's dispatcher. Evaluations are waited for on threads of
 * their own, outside the actors' dispatcher; the real ones run in JVMs of their own ({@link ModelEvaluator}). At start
 * the node computes its scoring fingerprint ({@link NodeFingerprint}): its slots offer themselves under it, and a
 * {@link NodeDescriber} announces it with the slots.
 */
public final class GpuNodeRole implements Sn11Node.Role {
  private static final Logger log = LoggerFactory.getLogger(GpuNodeRole.class);

  /** How long a stopping node waits for its evaluations to end (interrupted, their JVMs killed). */
  private static final Duration EVALUATIONS_STOP_WAIT = Duration.ofSeconds(10);

  private final Function<Config, Evaluator> evaluators;

  /** The real evaluation: model store, Hub, then precheck and engine in a JVM per evaluation. */
  public GpuNodeRole() {
    this(GpuNodeRole::modelEvaluator);
  }

  /** @param evaluators makes the evaluator the slots run from the node's configuration (tests replace it) */
  public GpuNodeRole(Function<Config, Evaluator> evaluators) {
    this.evaluators = evaluators;
  }

  @Override
  public String name() {
    return Roles.GPU_NODE;
  }

  @Override
  public void start(ActorSystem<?> system) throws IOException {
    Config config = system.settings().config();
    GpuNodeSettings settings = GpuNodeSettings.fromConfig(config);
    Evaluator evaluator = evaluators.apply(config);
    // The judge the evaluations make is of these settings; the node needs only its identity here.
    JudgeIdentity judge = Judge.create(settings.judge(), System.getenv()).identity();
    ScoringFingerprint fingerprint = NodeFingerprint.of(settings, ScoringSettings.fromConfig(config), judge);
    log.info("scoring fingerprint {}: {}", fingerprint.id(), fingerprint.components());
    AtomicInteger threadNumber = new AtomicInteger();
    ExecutorService evaluationThreads =
        Executors.newFixedThreadPool(
            slots(settings),
            task -> {
              Thread thread = new Thread(task, "sn11-evaluation-" + threadNumber.incrementAndGet());
              thread.setDaemon(true);
              return thread;
            });
    CoordinatedShutdown.get(system)
        .addTask(
            CoordinatedShutdown.PhaseBeforeActorSystemTerminate(),
            "stop-evaluation-threads",
            () -> {
              // Interrupted, each evaluation kills its JVM: wait for that, so that none outlives the node.
              evaluationThreads.shutdownNow();
              return CompletableFuture.supplyAsync(
                  () -> {
                    try {
                      if (!evaluationThreads.awaitTermination(EVALUATIONS_STOP_WAIT.toSeconds(), TimeUnit.SECONDS)) {
                        log.warn("evaluations still running {} after the node asked them to stop", EVALUATIONS_STOP_WAIT);
                      }
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                    return Done.getInstance();
                  });
            });
    Address node = Cluster.get(system).selfMember().address();
    List<String> workers = new ArrayList<>();
    for (int slot = 1; slot <= slots(settings); slot++) {
      String worker = EvaluationWork.workerName(node, slot);
      workers.add(worker);
      system.systemActorOf(
          WorkerSlot.create(worker, fingerprint.id(), settings, evaluator, evaluationThreads), EvaluationWork.slotActorName(slot), Props.empty());
    }
    system.systemActorOf(NodeDescriber.create(new EvaluationWork.NodeDescription(fingerprint, workers)), "scoring-node", Props.empty());
  }

  /** One evaluation slot per device: the cuda backend drives one device, whatever slots says. */
  private static int slots(GpuNodeSettings settings) {
    if (settings.slots() > 1 && Backends.usesCuda(settings.backend())) {
      log.warn("sn11.gpu-node.slots = {} but the cuda backend evaluates on one device: running 1 slot", settings.slots());
      return 1;
    }
    return settings.slots();
  }

  static Evaluator modelEvaluator(Config config) {
    GpuNodeSettings settings = GpuNodeSettings.fromConfig(config);
    ScoringSettings scoring = ScoringSettings.fromConfig(config);
    // Each evaluation JVM makes its own judge: a provider's key missing stops the node's start instead of every evaluation.
    settings.judge().requireApiKeys(System.getenv());
    GpuNodeSettings.HubSettings hubSettings = settings.hub();
    Optional<HubClient> hub =
        hubSettings.fetch()
            ? Optional.of(
                new HubClient(
                    HubClient.Config.builder()
                        .endpoint(hubSettings.endpoint())
                        .token(System.getenv(hubSettings.tokenEnv()))
                        .maxTotalBytes(scoring.maxModelBytes())
                        .build()))
            : Optional.empty();
    return new ModelEvaluator(
        new ModelStore(settings.modelStore()), hub, new EvaluationProcess(settings.evaluation().child()), childSettings(config));
  }

  /** What an evaluation JVM reads its settings from: the blocks it uses, resolved, nothing else of the node's. */
  static String childSettings(Config config) {
    Config used = config.withOnlyPath("sn11.gpu-node").withFallback(config.withOnlyPath("sn11.judge")).withFallback(config.withOnlyPath("sn11.scoring"));
    return used.root().render(ConfigRenderOptions.concise());
  }
}
