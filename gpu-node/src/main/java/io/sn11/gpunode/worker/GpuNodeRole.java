package io.sn11.gpunode.worker;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import io.sn11.cluster.node.Roles;
import io.sn11.cluster.node.Sn11Node;
import io.sn11.cluster.scoring.ScoringFingerprint;
import io.sn11.cluster.scoring.ScoringSettings;
import io.sn11.cluster.work.EvaluationWork;
import io.sn11.engine.backend.Backends;
import io.sn11.gpunode.judge.EngineJudge;
import io.sn11.gpunode.judge.Judge;
import io.sn11.gpunode.judge.JudgeStep;
import io.sn11.gpunode.store.HubClient;
import io.sn11.gpunode.store.StoreException;
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
import java.nio.file.Path;
import java.util.function.BiFunction;
import java.util.function.UnaryOperator;
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

  private final BiFunction<Config, Judge, Evaluator> evaluators;
  private final UnaryOperator<EngineJudge.Loader> judgeLoaders;

  /** The real evaluation: model store, Hub, then precheck and engine in a JVM per evaluation, judged by the node. */
  public GpuNodeRole() {
    this(GpuNodeRole::modelEvaluator, loader -> loader);
  }

  /**
   * @param evaluators makes the evaluator the slots run from the node's configuration and its one judge (tests
   *     replace it)
   */
  public GpuNodeRole(BiFunction<Config, Judge, Evaluator> evaluators) {
    this(evaluators, loader -> loader);
  }

  /** The real evaluation, with {@code judgeLoaders} wrapping the node's loader of an engine judge model (tests count the loads). */
  public GpuNodeRole(UnaryOperator<EngineJudge.Loader> judgeLoaders) {
    this(GpuNodeRole::modelEvaluator, judgeLoaders);
  }

  /** @param judgeLoaders wraps the node's loader of an engine judge model */
  public GpuNodeRole(BiFunction<Config, Judge, Evaluator> evaluators, UnaryOperator<EngineJudge.Loader> judgeLoaders) {
    this.evaluators = evaluators;
    this.judgeLoaders = judgeLoaders;
  }

  @Override
  public String name() {
    return Roles.GPU_NODE;
  }

  @Override
  public void start(ActorSystem<?> system) throws IOException {
    Config config = system.settings().config();
    GpuNodeSettings settings = GpuNodeSettings.fromConfig(config);
    // One judge per node, resident across evaluations and shared by the slots; a judge that cannot be made stops the start.
    Judge judge = Judge.create(settings.judge(), System.getenv(), judgeLoaders.apply(judgeModels(config)));
    log.info("judging with {}", judge.identity().describe());
    CoordinatedShutdown.get(system)
        .addTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate(), "close-judge", () -> CompletableFuture.supplyAsync(() -> {
          // evaluation threads stop in the same phase: an engine judge waits for a batch in flight before it closes
          judge.close();
          return Done.getInstance();
        }));
    Evaluator evaluator = evaluators.apply(config, judge);
    ScoringFingerprint fingerprint = NodeFingerprint.of(settings, ScoringSettings.fromConfig(config), judge.identity());
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

  static Evaluator modelEvaluator(Config config, Judge judge) {
    GpuNodeSettings settings = GpuNodeSettings.fromConfig(config);
    ScoringSettings scoring = ScoringSettings.fromConfig(config);
    return new ModelEvaluator(
        new ModelStore(settings.modelStore()),
        hub(settings, scoring),
        new EvaluationProcess(settings.evaluation().child()),
        childSettings(config),
        new RepliesJudging(JudgeStep.of(judge, scoring), scoring));
  }

  /**
   * Loads an engine judge's model on the node's backend: the operator's folder, or the model store's folder of
   * {@code namespace/name@revision}, fetched from the Hub when missing and fetching is on.
   */
  static EngineJudge.Loader judgeModels(Config config) {
    GpuNodeSettings settings = GpuNodeSettings.fromConfig(config);
    ScoringSettings scoring = ScoringSettings.fromConfig(config);
    return model -> {
      Path dir = model.path();
      if (dir == null) {
        String[] id = model.repository().split("/", 2);
        try {
          dir = new ModelStore(settings.modelStore()).locate(hub(settings, scoring), id[0], id[1], model.revision(), (done, total) -> {});
        } catch (StoreException e) {
          throw new IllegalStateException("the judge model " + model.describe() + " cannot be used: " + e.getMessage(), e);
        }
      }
      return EngineJudge.load(dir, model.describe(), model, settings.backend(), settings.threads());
    };
  }

  private static Optional<HubClient> hub(GpuNodeSettings settings, ScoringSettings scoring) {
    GpuNodeSettings.HubSettings hubSettings = settings.hub();
    return hubSettings.fetch()
        ? Optional.of(
            new HubClient(
                HubClient.Config.builder()
                    .endpoint(hubSettings.endpoint())
                    .token(System.getenv(hubSettings.tokenEnv()))
                    .maxTotalBytes(scoring.maxModelBytes())
                    .build()))
        : Optional.empty();
  }

  /**
   * What an evaluation JVM reads its settings from: the blocks it uses, resolved, nothing else of the node's (of
   * {@code sn11.judge}, the generation of the replies).
   */
  static String childSettings(Config config) {
    Config used = config.withOnlyPath("sn11.gpu-node").withFallback(config.withOnlyPath("sn11.judge")).withFallback(config.withOnlyPath("sn11.scoring"));
    return used.root().render(ConfigRenderOptions.concise());
  }
}
