package io.sn11.coordinator.evaluation;

import io.sn11.cluster.domain.ModelDetails;
import io.sn11.cluster.domain.Scores;
import io.sn11.coordinator.CoordinatorSettings;
import io.sn11.coordinator.readside.ReadSide;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * Submissions and reads of model records: finds the earlier model of a submission's repository (a
 * duplicate), has the hotkey's {@link HotkeySubmissions} entity decide the window rule, and talks to the
 * model's entity.
 */
public final class Submissions {
  private final ClusterSharding sharding;
  private final ReadSide readSide;
  private final Executor blocking;
  private final Duration timeout;

  public Submissions(ActorSystem<?> system, ReadSide readSide, Executor blocking, CoordinatorSettings settings) {
    this.sharding = ClusterSharding.get(system);
    this.readSide = readSide;
    this.blocking = blocking;
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
              return duplicateOf(details).thenCompose(duplicateOf -> newModel(details, duplicateOf, enforceWindow, null));
            });
  }

  /** A model without a record, through its hotkey's entity, which decides the window rule and records it. */
  private CompletionStage<ModelEvaluation.State> newModel(
      ModelDetails details, String duplicateOf, boolean enforceWindow, HotkeySubmissions.ImportedResult importedResult) {
    return sharding
        .entityRefFor(HotkeySubmissions.TYPE_KEY, details.hotkey())
        .askWithStatus(replyTo -> new HotkeySubmissions.Submit(details, duplicateOf, enforceWindow, importedResult, replyTo), timeout);
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

  /** Records a result produced elsewhere; a model without a record is accepted for its hotkey first, as an operator's queueing is. */
  public CompletionStage<ModelEvaluation.State> recordResult(ModelDetails details, Scores scores, String source) {
    return get(details.hash())
        .thenCompose(
            existing ->
                existing.isEmpty()
                    ? newModel(details, null, false, new HotkeySubmissions.ImportedResult(scores, source))
                    : recordResultOf(details, new HotkeySubmissions.ImportedResult(scores, source)));
  }

  private CompletionStage<ModelEvaluation.State> recordResultOf(ModelDetails details, HotkeySubmissions.ImportedResult result) {
    return entity(details.hash())
        .askWithStatus(replyTo -> new ModelEvaluation.RecordResult(details, result.scores(), result.source(), replyTo), timeout);
  }

  /** Models whose entities a rescore asks at once: bounds the asks in flight and each read-side page. */
  static final int RESCORE_BATCH = 100;

  /** What a rescore queued: the models' hashes in hash order, and whether more candidates remain beyond {@code limit}. */
  public record RescoreOutcome(List<String> queued, boolean more) {}

  /**
   * Queues a rescore of up to {@code limit} COMPLETED models whose score was produced under another fingerprint
   * than {@code fingerprint} ({@code all}: every COMPLETED model), in pages of {@link #RESCORE_BATCH} from the
   * read side, each page's entities asked at once. Each entity decides for itself (a rescore already pending, or a
   * score under the fingerprint, is left alone), so a repeated request queues nothing twice. Completes once every
   * queued model's entity has persisted its rescore; fails as soon as one cannot be asked (the models queued
   * before stay queued, and a repeated request goes on from there).
   */
  public CompletionStage<RescoreOutcome> rescore(String fingerprint, int limit) {
    String request = UUID.randomUUID().toString();
    String reason = "rescore requested by an operator for fingerprint " + fingerprint;
    return rescoreFrom(fingerprint, reason, request, "", limit, new ArrayList<>());
  }

  private CompletionStage<RescoreOutcome> rescoreFrom(
      String fingerprint, String reason, String request, String afterHash, int limit, List<String> queued) {
    int wanted = limit - queued.size();
    if (wanted == 0) {
      return onReadSide(() -> readSide.rescoreCandidates(fingerprint, afterHash, 1)).thenApply(rest -> new RescoreOutcome(queued, !rest.isEmpty()));
    }
    return onReadSide(() -> readSide.rescoreCandidates(fingerprint, afterHash, Math.min(RESCORE_BATCH, wanted)))
        .thenCompose(
            page -> {
              if (page.isEmpty()) return CompletableFuture.completedFuture(new RescoreOutcome(queued, false));
              List<CompletableFuture<ModelEvaluation.State>> asks =
                  page.stream()
                      .map(
                          hash ->
                              entity(hash)
                                  .<ModelEvaluation.State>askWithStatus(replyTo -> new ModelEvaluation.Rescore(fingerprint, reason, request, replyTo), timeout)
                                  .toCompletableFuture())
                      .toList();
              return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new))
                  .thenCompose(
                      allAnswered -> {
                        for (int i = 0; i < page.size(); i++) if (asks.get(i).join().rescoredBy(request)) queued.add(page.get(i));
                        return rescoreFrom(fingerprint, reason, request, page.getLast(), limit, queued);
                      });
            });
  }

  /** What the hotkeys' entities need: the read side's memory of a hotkey, and the models' entities. */
  public HotkeySubmissions.Collaborators forHotkeys() {
    return new HotkeySubmissions.Collaborators() {
      @Override
      public CompletionStage<Optional<HotkeySubmissions.AcceptedModel>> latestAcceptedOnReadSide(String hotkey) {
        return onReadSide(
            () -> readSide.latestAcceptedModel(hotkey).map(row -> new HotkeySubmissions.AcceptedModel(row.details().hash(), row.details().block())));
      }

      @Override
      public CompletionStage<ModelEvaluation.State> recordOf(String hash) {
        return get(hash);
      }

      @Override
      public CompletionStage<ModelEvaluation.State> submit(ModelDetails details, ModelEvaluation.Admission admission) {
        return entity(details.hash()).askWithStatus(replyTo -> new ModelEvaluation.Submit(details, admission, replyTo), timeout);
      }

      @Override
      public CompletionStage<ModelEvaluation.State> recordResult(ModelDetails details, HotkeySubmissions.ImportedResult result) {
        return recordResultOf(details, result);
      }
    };
  }

  /** The earlier accepted model of the same repository by another hotkey, described; null when there is none. */
  private CompletionStage<String> duplicateOf(ModelDetails details) {
    return onReadSide(
        () ->
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
                .orElse(null));
  }

  private <T> CompletionStage<T> onReadSide(ReadSide.Query<T> query) {
    return ReadSide.on(blocking, query);
  }
}
