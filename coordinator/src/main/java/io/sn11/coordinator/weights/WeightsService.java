package io.sn11.coordinator.weights;

import io.sn11.cluster.domain.ModelStatus;
import io.sn11.cluster.scoring.Contestant;
import io.sn11.cluster.scoring.Duplicates;
import io.sn11.cluster.scoring.ScoringSettings;
import io.sn11.cluster.scoring.Weights;
import io.sn11.cluster.scoring.WinRate;
import io.sn11.cluster.scoring.WinRates;
import io.sn11.coordinator.CoordinatorSettings;
import io.sn11.coordinator.readside.ModelRow;
import io.sn11.coordinator.readside.ReadSide;
import io.sn11.coordinator.readside.RegistryRow;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * Win rates and weights over the miner registry: which entries may compete, how they fare against each
 * other, the weight vector of this step, and the persisted moving average it is folded into.
 */
public final class WeightsService {
  /** One registry entry as it enters the win rates. */
  public record Entry(int uid, String hotkey, String hash, long block, double score, String invalidReason) {
    public boolean invalid() {
      return invalidReason != null;
    }
  }

  /** One row of the answer; {@code weight} is null in a preview, which folds nothing. */
  public record Row(Entry entry, int wins, double winRate, double stepWeight, Double weight) {}

  public record Result(long currentBlock, List<Row> rows, boolean folded, long lastFoldedBlock) {}

  /** An optional burn: {@code uid} receives {@code share} of every step. */
  public record Burn(int uid, double share) {}

  private final ReadSide readSide;
  private final Executor blocking;
  private final CoordinatorSettings settings;
  private final ScoringSettings scoring;
  private final EntityRef<WeightsLedger.Command> ledger;
  private final ActorSystem<?> system;

  public WeightsService(
      ActorSystem<?> system, ReadSide readSide, Executor blocking, CoordinatorSettings settings, ScoringSettings scoring) {
    this.system = system;
    this.readSide = readSide;
    this.blocking = blocking;
    this.settings = settings;
    this.scoring = scoring;
    this.ledger = ClusterSharding.get(system).entityRefFor(WeightsLedger.TYPE_KEY, WeightsLedger.LEDGER_ID);
  }

  /** Computes this step over the registry and folds it into the moving average (once per block). */
  public CompletionStage<Result> weights(long currentBlock, Burn burn) {
    return CompletableFuture.supplyAsync(
            () -> {
              try {
                return entries(readSide.registry(), currentBlock);
              } catch (SQLException e) {
                throw new CompletionException(e);
              }
            },
            blocking)
        .thenCompose(
            entries -> {
              List<Row> step = step(entries, burn);
              Map<Integer, Double> stepWeights = new LinkedHashMap<>();
              step.forEach(row -> stepWeights.put(row.entry().uid(), row.stepWeight()));
              return ledger
                  .<WeightsLedger.State>askWithStatus(
                      replyTo -> new WeightsLedger.Fold(currentBlock, stepWeights, scoring.emaNewWeight(), replyTo), settings.askTimeout())
                  .thenApply(
                      ledgerState -> {
                        List<Row> rows = new ArrayList<>();
                        for (Row row : step) {
                          double weight = ledgerState.average().getOrDefault(row.entry().uid(), 0.0);
                          rows.add(new Row(row.entry(), row.wins(), row.winRate(), row.stepWeight(), weight));
                        }
                        return new Result(currentBlock, rows, ledgerState.lastBlock() == currentBlock, ledgerState.lastBlock());
                      });
            });
  }

  /**
   * The latest {@code limit} folded steps, oldest first, read from the ledger's journal: each fold is one
   * event, so the ledger's step count is the sequence number of its latest event.
   */
  public CompletionStage<List<WeightsLedger.WeightsFolded>> history(int limit) {
    return ledger
        .<WeightsLedger.State>ask(WeightsLedger.Get::new, settings.askTimeout())
        .thenCompose(
            state -> {
              if (state.steps() == 0) return CompletableFuture.completedFuture(List.of());
              JdbcReadJournal journal = PersistenceQuery.get(system).getReadJournalFor(JdbcReadJournal.class, JdbcReadJournal.Identifier());
              return journal
                  .currentEventsByPersistenceId(WeightsLedger.PERSISTENCE_ID.id(), Math.max(1, state.steps() - limit + 1), state.steps())
                  .map(envelope -> (WeightsLedger.WeightsFolded) envelope.event())
                  .runWith(Sink.seq(), system);
            });
  }

  /** The same computation over entries given by the caller; nothing is read or persisted. */
  public List<Row> preview(List<Entry> entries, Burn burn) {
    return step(entries, burn);
  }

  private List<Row> step(List<Entry> entries, Burn burn) {
    List<Contestant> contestants =
        entries.stream().map(e -> new Contestant(e.uid(), e.block(), e.score(), e.invalid())).toList();
    List<WinRate> winRates = WinRates.compute(contestants, scoring.laterSubmissionFactor());
    Map<Integer, Double> weights = Weights.softmax(winRates, scoring.softmaxTemperature());
    List<Entry> all = new ArrayList<>(entries);
    List<WinRate> allRates = new ArrayList<>(winRates);
    if (burn != null) {
      weights = Weights.withBurn(weights, burn.uid(), burn.share());
      if (entries.stream().noneMatch(e -> e.uid() == burn.uid())) {
        all.add(new Entry(burn.uid(), null, null, 0, 0, "burn uid, not in the registry"));
        allRates.add(new WinRate(burn.uid(), 0, Double.NEGATIVE_INFINITY));
      }
    }
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < all.size(); i++) {
      Entry entry = all.get(i);
      WinRate rate = allRates.get(i);
      rows.add(new Row(entry, rate.wins(), rate.winRate(), weights.getOrDefault(entry.uid(), 0.0), null));
    }
    return rows;
  }

  /** Which registry entries may compete at {@code currentBlock}, and why the others may not. */
  List<Entry> entries(List<RegistryRow> registry, long currentBlock) {
    Map<Integer, String> duplicates =
        Duplicates.find(
            registry.stream()
                // Entries naming no known model are invalid anyway and have no repository to compare; a
                // submission the window rule refused is invalid too, and never the original of anything.
                .filter(r -> r.model().isPresent() && r.model().get().accepted())
                .map(
                    r ->
                        new Duplicates.Candidate(
                            r.uid(), r.hash(), r.model().get().details().repository(),
                            r.model().get().contentHash(), r.block()))
                .toList());
    List<Entry> entries = new ArrayList<>();
    for (RegistryRow r : registry) {
      String reason = invalidReason(r, currentBlock);
      if (reason == null) reason = duplicates.get(r.uid());
      Double total = r.model().map(m -> m.scores().totalScore()).orElse(null);
      entries.add(new Entry(r.uid(), r.hotkey(), r.hash(), r.block(), total == null ? 0 : total, reason));
    }
    return entries;
  }

  private String invalidReason(RegistryRow r, long currentBlock) {
    if (r.block() > currentBlock) return "registered at block " + r.block() + ", after the current block";
    if (r.block() < settings.epochStartBlock()) return "registered at block " + r.block() + ", before the epoch start block " + settings.epochStartBlock();
    if (r.model().isEmpty()) return "model " + r.hash() + " was never submitted";
    ModelRow model = r.model().get();
    if (model.status() == ModelStatus.FAILED) {
      return "evaluation failed: " + (model.failure() == null ? "unknown reason" : model.failure().reason());
    }
    if (model.scores().totalScore() == null) return "not scored yet (" + model.status() + ")";
    if (model.duplicateOf() != null) return "duplicate of " + model.duplicateOf();
    return null;
  }
}
