package io.sn11.coordinator.weights;

import io.sn11.cluster.domain.ModelStatus;
import io.sn11.cluster.scoring.Contestant;
import io.sn11.cluster.scoring.Duplicates;
import io.sn11.cluster.scoring.MovingAverage;
import io.sn11.cluster.scoring.ScoringSettings;
import io.sn11.cluster.scoring.Weights;
import io.sn11.cluster.scoring.WinRate;
import io.sn11.cluster.scoring.WinRates;
import io.sn11.coordinator.CoordinatorSettings;
import io.sn11.coordinator.readside.ModelRow;
import io.sn11.coordinator.readside.ReadSide;
import io.sn11.coordinator.readside.RegistryRow;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
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
 * other, the weight vector of a step, and the persisted moving average it is folded into. Reading never
 * folds: {@link #fold} is the operator's act and {@link #foldChainBlock} the node's own schedule.
 */
public final class WeightsService {
  /** One registry entry as it enters the win rates. */
  public record Entry(int uid, String hotkey, String hash, long block, double score, String invalidReason) {
    public boolean invalid() {
      return invalidReason != null;
    }
  }

  /** One row of the answer; {@code weight} is null in a step over given entries, which has no average. */
  public record Row(Entry entry, int wins, double winRate, double stepWeight, Double weight) {}

  /**
   * The step at {@code currentBlock} with the moving average it gives: the one folding it would persist (a
   * preview) or did persist (a fold). {@code lastFoldedBlock} is -1 while nothing is folded.
   */
  public record Result(long currentBlock, List<Row> rows, long lastFoldedBlock) {}

  /** A block the weights are not previewed or folded at. */
  public static final class BlockRefused extends RuntimeException {
    public enum Reason {
      /** Further beyond the chain's current block, as this node knows it, than allowed. */
      BEYOND_CHAIN,
      /** Not after the last folded block: folding it would fold a block twice or go back. */
      NOT_AFTER_LAST_FOLD
    }

    private final Reason reason;

    BlockRefused(Reason reason, String detail) {
      super(detail, null, false, false);
      this.reason = reason;
    }

    public Reason reason() {
      return reason;
    }
  }

  /** A step computed over the registry at {@code block}: its rows and its weight per uid. */
  private record Step(long block, List<Row> rows, Map<Integer, Double> weights) {}

  private final ReadSide readSide;
  private final Executor blocking;
  private final CoordinatorSettings settings;
  private final ScoringSettings scoring;
  private final ChainHeight chain;
  private final EntityRef<WeightsLedger.Command> ledger;
  private final ActorSystem<?> system;

  public WeightsService(
      ActorSystem<?> system, ReadSide readSide, Executor blocking, CoordinatorSettings settings, ScoringSettings scoring) {
    this.system = system;
    this.readSide = readSide;
    this.blocking = blocking;
    this.settings = settings;
    this.scoring = scoring;
    this.chain = new ChainHeight(settings.weights(), Clock.systemUTC());
    this.ledger = ClusterSharding.get(system).entityRefFor(WeightsLedger.TYPE_KEY, WeightsLedger.LEDGER_ID);
  }

  /** The last folded state: the moving average and the block it was folded at. */
  public CompletionStage<WeightsLedger.State> folded() {
    return ledger.ask(WeightsLedger.Get::new, settings.askTimeout());
  }

  /** The step at {@code currentBlock} and the average that folding it would give; nothing is persisted. */
  public CompletionStage<Result> preview(long currentBlock) {
    return registry()
        .thenCompose(
            registry -> {
              Step step = allowedStep(registry, currentBlock);
              return folded()
                  .thenApply(
                      state -> {
                        requireAfterLastFold(currentBlock, state.lastBlock());
                        return result(step, MovingAverage.fold(state.average(), step.weights(), scoring.emaNewWeight()), state.lastBlock());
                      });
            });
  }

  /** Folds the step at {@code currentBlock} into the moving average; answers once the fold is persisted. */
  public CompletionStage<Result> fold(long currentBlock) {
    return registry().thenCompose(registry -> persist(allowedStep(registry, currentBlock)));
  }

  /**
   * Folds the chain's current block as this node knows it, unless it is folded already or nobody is
   * registered yet (a step of no miners is not worth a fold); empty then.
   */
  public CompletionStage<Optional<Result>> foldChainBlock() {
    return registry()
        .thenCompose(
            registry -> {
              long block = chain.current(highestBlock(registry));
              return folded()
                  .thenCompose(
                      state ->
                          registry.isEmpty() || block <= state.lastBlock()
                              ? CompletableFuture.completedFuture(Optional.<Result>empty())
                              : persist(step(registry, block)).thenApply(Optional::of));
            });
  }

  /**
   * The latest {@code limit} folded steps, oldest first, read from the ledger's journal: each fold is one
   * event, so the ledger's step count is the sequence number of its latest event.
   */
  public CompletionStage<List<WeightsLedger.WeightsFolded>> history(int limit) {
    return folded()
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

  /** The step over entries given by the caller, with the burn they give; nothing is read or persisted. */
  public List<Row> stepOf(List<Entry> entries, CoordinatorSettings.Burn burn) {
    return rows(entries, burn);
  }

  private CompletionStage<List<RegistryRow>> registry() {
    return ReadSide.on(blocking, readSide::registry);
  }

  /**
   * Persists the step's fold. A block not after the last folded one is refused before asking the ledger (a
   * retried fold learns it is folded already) and after (a later block folded meanwhile; the ledger kept it).
   */
  private CompletionStage<Result> persist(Step step) {
    return folded()
        .thenCompose(
            before -> {
              requireAfterLastFold(step.block(), before.lastBlock());
              return ledger.<WeightsLedger.State>askWithStatus(
                  replyTo -> new WeightsLedger.Fold(step.block(), step.weights(), scoring.emaNewWeight(), replyTo), settings.askTimeout());
            })
        .thenApply(
            after -> {
              if (after.lastBlock() != step.block()) requireAfterLastFold(step.block(), after.lastBlock());
              return result(step, after.average(), after.lastBlock());
            });
  }

  private static void requireAfterLastFold(long block, long lastFoldedBlock) {
    if (block > lastFoldedBlock) return;
    String detail =
        block == lastFoldedBlock
            ? "block " + block + " is folded already"
            : "block " + block + " is before the last folded block " + lastFoldedBlock + "; blocks fold once each, in order";
    throw new BlockRefused(BlockRefused.Reason.NOT_AFTER_LAST_FOLD, detail);
  }

  /** The step at {@code block}, refused when the block is further beyond the chain than allowed. */
  private Step allowedStep(List<RegistryRow> registry, long block) {
    long highestSeen = highestBlock(registry);
    long allowed = chain.highestAllowed(highestSeen);
    if (block > allowed) {
      throw new BlockRefused(
          BlockRefused.Reason.BEYOND_CHAIN,
          "block " + block + " is beyond the chain: its current block as this node knows it is " + chain.current(highestSeen)
              + ", and at most " + chain.maxBlocksAhead() + " blocks beyond it are allowed (up to " + allowed + ")");
    }
    return step(registry, block);
  }

  private Step step(List<RegistryRow> registry, long block) {
    List<Row> rows = rows(entries(registry, block), settings.weights().burn());
    Map<Integer, Double> weights = new LinkedHashMap<>();
    rows.forEach(row -> weights.put(row.entry().uid(), row.stepWeight()));
    return new Step(block, rows, weights);
  }

  /** The highest block the chain has shown this node: registrations and the models they name. */
  private static long highestBlock(List<RegistryRow> registry) {
    long highest = 0;
    for (RegistryRow r : registry) {
      highest = Math.max(highest, r.block());
      if (r.model().isPresent()) highest = Math.max(highest, r.model().get().details().block());
    }
    return highest;
  }

  /**
   * The step's rows with their weight in {@code average}, then a row for every uid of the average that is
   * not in the step (its weight decays), so that the rows show the whole average.
   */
  private static Result result(Step step, Map<Integer, Double> average, long lastFoldedBlock) {
    List<Row> rows = new ArrayList<>();
    for (Row row : step.rows()) {
      rows.add(new Row(row.entry(), row.wins(), row.winRate(), row.stepWeight(), average.getOrDefault(row.entry().uid(), 0.0)));
    }
    new TreeMap<>(average)
        .forEach(
            (uid, weight) -> {
              if (!step.weights().containsKey(uid)) {
                rows.add(new Row(new Entry(uid, null, null, 0, 0, "not in this step; its weight decays"), 0, Double.NEGATIVE_INFINITY, 0.0, weight));
              }
            });
    return new Result(step.block(), rows, lastFoldedBlock);
  }

  private List<Row> rows(List<Entry> entries, CoordinatorSettings.Burn burn) {
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
