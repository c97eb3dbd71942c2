package io.sn11.coordinator.evaluation;

import io.sn11.cluster.domain.ModelDetails;
import io.sn11.cluster.domain.ModelStatus;
import io.sn11.cluster.domain.Scores;
import io.sn11.coordinator.CoordinatorSettings;
import io.sn11.coordinator.readside.ModelRow;
import io.sn11.coordinator.readside.ReadSide;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * Submissions and reads of model records: applies the submission rules (one model per hotkey per
 * window, duplicates of an earlier repository) and talks to the model's entity.
 */
public final class Submissions {
  private final ClusterSharding sharding;
  private final ReadSide readSide;
  private final Executor blocking;
  private final CoordinatorSettings settings;
  private final Duration timeout;

  public Submissions(ActorSystem<?> system, ReadSide readSide, Executor blocking, CoordinatorSettings settings) {
    this.sharding = ClusterSharding.get(system);
    this.readSide = readSide;
    this.blocking = blocking;
    this.settings = settings;
    this.timeout = settings.askTimeout();
  }

  private EntityRef<ModelEvaluation.Command> entity(String hash) {
    return sharding.entityRefFor(ModelEvaluation.TYPE_KEY, hash);
  }

  public CompletionStage<ModelEvaluation.State> get(String hash) {
    return entity(hash).askWithStatus(ModelEvaluation.Get::new, timeout);
  }

  /**
   * A miner's submission through the validation API: an existing model answers unchanged; a new one is
   * admitted under the rules. {@code enforceWindow} is false for an operator's own queueing.
   */
  public CompletionStage<ModelEvaluation.State> submit(ModelDetails details, boolean enforceWindow) {
    return get(details.hash())
        .thenCompose(
            existing -> {
              if (!existing.isEmpty()) return CompletableFuture.completedFuture(existing);
              return admission(details, enforceWindow)
                  .thenCompose(
                      admission ->
                          entity(details.hash())
                              .askWithStatus(replyTo -> new ModelEvaluation.Submit(details, admission, replyTo), timeout));
            });
  }

  /** Queue a model, or queue an existing one again; its previous score stays visible until the new one completes. */
  public CompletionStage<ModelEvaluation.State> evaluate(ModelDetails details) {
    return get(details.hash())
        .thenCompose(
            existing ->
                existing.isEmpty()
                    ? submit(details, false)
                    : entity(details.hash())
                        .askWithStatus(replyTo -> new ModelEvaluation.Requeue("re-evaluation requested by an operator", replyTo), timeout));
  }

  public CompletionStage<ModelEvaluation.State> recordResult(ModelDetails details, Scores scores, String source) {
    return entity(details.hash())
        .askWithStatus(replyTo -> new ModelEvaluation.RecordResult(details, scores, source, replyTo), timeout);
  }

  private CompletionStage<ModelEvaluation.Admission> admission(ModelDetails details, boolean enforceWindow) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            String refusal = enforceWindow ? windowRefusal(details, readSide.latestAcceptedModel(details.hotkey())) : null;
            String duplicateOf =
                readSide
                    .earliestAcceptedModelOfRepositoryByOthers(details)
                    .filter(earlier -> earlier.details().block() <= details.block())
                    .map(
                        earlier ->
                            "model "
                                + earlier.details().hash()
                                + " (same repository "
                                + details.repository()
                                + ", hotkey "
                                + earlier.details().hotkey()
                                + ", block "
                                + earlier.details().block()
                                + ")")
                    .orElse(null);
            return new ModelEvaluation.Admission(refusal, duplicateOf);
          } catch (SQLException e) {
            throw new CompletionException(e);
          }
        },
        blocking);
  }

  private String windowRefusal(ModelDetails details, Optional<ModelRow> latest) {
    if (latest.isEmpty()) return null;
    ModelRow last = latest.get();
    if (last.status() == ModelStatus.FAILED) return null;
    long nextAllowed = last.details().block() + settings.windowBlocks();
    if (details.block() >= nextAllowed) return null;
    return "hotkey "
        + details.hotkey()
        + " already has model "
        + last.details().hash()
        + " accepted at block "
        + last.details().block()
        + "; one model per "
        + settings.windowBlocks()
        + " blocks unless the last one failed: the next submission is allowed from block "
        + nextAllowed;
  }
}
