package io.sn11.gpunode.worker;

import io.sn11.cluster.node.Roles;
import io.sn11.cluster.node.Sn11Node;
import io.sn11.cluster.scoring.ScoringSettings;
import io.sn11.cluster.work.EvaluationWork;
import io.sn11.gpunode.engine.backend.Backends;
import io.sn11.gpunode.engine.data.Dataset;
import io.sn11.gpunode.engine.data.SyntheticDataset;
import io.sn11.gpunode.judge.Judge;
import io.sn11.gpunode.judge.JudgeStep;
import io.sn11.gpunode.store.HubClient;
import io.sn11.gpunode.store.ModelStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
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
 * number), each pulling evaluations from the coordinator's dispatcher. Evaluations run on threads of
 * their own, outside the actors' dispatcher.
 */
public final class GpuNodeRole implements Sn11Node.Role {
  

  private static final Logger log = LoggerFactory.getLogger(GpuNodeRole.class);

  private final BiFunction<GpuNodeSettings, ScoringSettings, Evaluator> evaluators;

  /** The real evaluation: model store, Hub, precheck, engine. */
  public GpuNodeRole() {
    this(GpuNodeRole::modelEvaluator);
  }

  /** @param evaluators makes the evaluator the slots run (tests replace it) */
  public GpuNodeRole(BiFunction<GpuNodeSettings, ScoringSettings, Evaluator> evaluators) {
    this.evaluators = evaluators;
  }

  @Override
  public String name() {
    return Roles.GPU_NODE;
  }

  @Override
  public void start(ActorSystem<?> system) {
    GpuNodeSettings settings = GpuNodeSettings.fromConfig(system.settings().config());
    Evaluator evaluator = evaluators.apply(settings, ScoringSettings.fromConfig(system.settings().config()));
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
              evaluationThreads.shutdownNow();
              return CompletableFuture.completedFuture(Done.getInstance());
            });
    Address node = Cluster.get(system).selfMember().address();
    for (int slot = 1; slot <= slots(settings); slot++) {
      system.systemActorOf(
          WorkerSlot.create(EvaluationWork.workerName(node, slot), settings, evaluator, evaluationThreads),
          EvaluationWork.slotActorName(slot),
          Props.empty());
    }
  }

  /** One evaluation slot per device: the cuda backend drives one device, whatever slots says. */
  private static int slots(GpuNodeSettings settings) {
    if (settings.slots() > 1 && Backends.usesCuda(settings.backend())) {
      log.warn("sn11.gpu-node.slots = {} but the cuda backend evaluates on one device: running 1 slot", settings.slots());
      return 1;
    }
    return settings.slots();
  }

  static Evaluator modelEvaluator(GpuNodeSettings settings, ScoringSettings scoring) {
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
    JudgeStep judge = JudgeStep.of(settings.judge(), Judge.create(settings.judge(), System.getenv()), scoring);
    return new ModelEvaluator(settings, scoring, new ModelStore(settings.modelStore()), hub, dataset(settings.evaluation()), judge);
  }

  private static Dataset dataset(GpuNodeSettings.EvaluationSettings evaluation) {
    if (evaluation.dataset() == null) {
      return SyntheticDataset.generate(evaluation.syntheticSeed(), evaluation.syntheticConversations());
    }
    try {
      return Dataset.read(evaluation.dataset());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the evaluation dataset " + evaluation.dataset() + ": " + e.getMessage(), e);
    }
  }
}
