package io.sn11.launcher;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code sn11 loadtest}: many simulated validators and miners against a coordinator for a while, then a
 * check that every submission the server accepted is in the record. With {@code --benchmark}, a
 * {@link LoadBenchmark} on a coordinator of its own instead.
 */
@Command(
    name = "loadtest",
    mixinStandardHelpOptions = true,
    description = {
      "Drive a coordinator with a realistic mix for a while: submissions (10%%), status polls of submitted models (60%%), the minerboard (15%%) and weights (15%%).",
      "Prints throughput, p50/p95/p99 latency and errors per request type, then checks that every accepted submission is in the record: \"lost: 0\" or the missing ones.",
      "Submissions need an admin token (--token, $SN11_ADMIN_TOKEN or <data-dir>/admin-token). The server's per-client rate limits apply to the load too: 429s are counted as errors.",
      "",
      "--benchmark measures instead, in one run on this machine: requests/s of GET /model_submission_details against the trivial GET /hc of the same server (ratio), and submissions persisted per second"
          + " in the PostgreSQL journal against plain JDBC inserts of rows of the same size with the same concurrency (ratio), then checks that no accepted submission is missing from the journal."
          + " It starts its own PostgreSQL (embedded; or --db-url) and coordinator (rate limits raised), so it takes no --target, --url or --token."
    })
final class LoadtestCommand implements Callable<Integer> {
  private static final Duration LOAD_DURATION = Duration.ofSeconds(60);

  @Mixin ApiClient api;

  @Option(names = "--target", description = "The coordinator's HTTP API (same as --url).")
  java.net.URI target;

  @Option(
      names = "--duration",
      converter = SecondsConverter.class,
      description = "How long to drive the load, e.g. 60s or 5m (default: 60s; with --benchmark, per measurement: " + LoadBenchmark.DEFAULT_DURATION_TEXT + ").")
  Duration duration;

  @Option(names = "--users", defaultValue = "16", description = "Simulated clients, each sending its next request as soon as the last is answered (default: ${DEFAULT-VALUE}).")
  int users;

  @Option(names = "--block", defaultValue = "1000", description = "Block of the submissions (default: ${DEFAULT-VALUE}).")
  long block;

  @ArgGroup(exclusive = false, heading = "%nBenchmark mode:%n")
  LoadBenchmark.Options benchmark;

  @Spec CommandSpec spec;

  private final Map<String, Tally> tallies = new ConcurrentHashMap<>();
  /** Accepted submissions by hash. */
  private final Map<String, SyntheticModel> accepted = new ConcurrentHashMap<>();
  /** The same models, for picking one at random to poll. */
  private final List<SyntheticModel> pollable = Collections.synchronizedList(new ArrayList<>());
  private final AtomicInteger submissions = new AtomicInteger();
  private final String run = Long.toHexString(System.nanoTime());

  @Override
  public Integer call() throws Exception {
    if (users < 1) throw new ParameterException(spec.commandLine(), "--users must be at least 1");
    if (duration != null && (duration.isZero() || duration.isNegative())) throw new ParameterException(spec.commandLine(), "--duration must be positive, was " + duration);
    if (benchmark != null) {
      checkBenchmarkOptions();
      return new LoadBenchmark(benchmark, users, duration == null ? LoadBenchmark.DEFAULT_DURATION : duration, block).run();
    }
    if (target != null) api.url = target;
    double seconds = ClosedLoop.drive(users, duration == null ? LOAD_DURATION : duration, this::oneRequest);
    report(seconds);
    return checkNothingLost();
  }

  private void checkBenchmarkOptions() {
    for (String clientOption : List.of("--target", "--url", "--token")) {
      if (spec.commandLine().getParseResult().hasMatchedOption(clientOption)) {
        throw new ParameterException(spec.commandLine(), "--benchmark starts a coordinator of its own: " + clientOption + " does not apply");
      }
    }
    if (benchmark.dbUrl != null && !benchmark.dbUrl.startsWith("jdbc:postgresql:")) {
      throw new ParameterException(spec.commandLine(), "--db-url must be a PostgreSQL JDBC URL, jdbc:postgresql://HOST:PORT/DATABASE; was " + benchmark.dbUrl);
    }
  }

  private void oneRequest() {
    int pick = ThreadLocalRandom.current().nextInt(100);
    try {
      if (pick < 10 || pollable.isEmpty()) {
        submit();
      } else if (pick < 70) {
        SyntheticModel model;
        synchronized (pollable) {
          model = pollable.get(ThreadLocalRandom.current().nextInt(pollable.size()));
        }
        tally("status").send(() -> api.get(model.detailsPath()));
      } else if (pick < 85) {
        tally("minerboard").send(() -> api.get("/minerboard"));
      } else {
        // What validators read: the last folded weights (a preview at a block would depend on what is folded).
        tally("weights").send(() -> api.get("/weights"));
      }
    } catch (RuntimeException e) {
      // A request this client could not even build: counted, and the run goes on.
      tally("client").countError(e);
    }
  }

  private void submit() {
    SyntheticModel model = SyntheticModel.of(run, submissions.incrementAndGet());
    ApiClient.Answer answer = tally("submit").send(() -> api.post("/check_model", model.checkModelBody(block), true));
    if (answer != null && answer.ok()) {
      accepted.put(model.hash(), model);
      pollable.add(model);
    }
  }

  private Tally tally(String type) {
    return tallies.computeIfAbsent(type, t -> new Tally());
  }

  private void report(double seconds) {
    System.out.println(Tally.HEADER);
    long total = 0;
    for (String type : List.of("submit", "status", "minerboard", "weights", "client")) {
      Tally tally = tallies.get(type);
      if (tally == null) continue;
      Tally.Summary summary = tally.summary();
      total += summary.count();
      System.out.println(summary.row(type, seconds));
    }
    System.out.printf("all         %9d %9.1f   over %.1f s with %d users%n", total, total / seconds, seconds, users);
  }

  /** Every accepted submission must answer with its own record. */
  private int checkNothingLost() throws Exception {
    List<String> missing = new ArrayList<>();
    for (SyntheticModel model : accepted.values()) {
      ApiClient.Answer answer = api.get(model.detailsPath());
      if (!answer.ok() || !model.hash().equals(answer.body().path("details").path("model_hash").asText())) missing.add(model.hash());
    }
    System.out.printf("accepted submissions: %d, checked in the record: %d%n", accepted.size(), accepted.size() - missing.size());
    return printLost(missing);
  }

  /** "lost: 0" and exit code 0, or how many submissions are missing, which, and exit code 1. */
  static int printLost(List<String> missingHashes) {
    if (missingHashes.isEmpty()) {
      System.out.println("lost: 0");
      return 0;
    }
    System.out.println("lost: " + missingHashes.size() + " " + missingHashes);
    return 1;
  }

  /** Durations as people write them: 90s, 5m, 1h (or ISO-8601, PT90S). */
  static final class SecondsConverter implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      String v = value.trim().toLowerCase(java.util.Locale.ROOT);
      if (v.startsWith("pt")) return Duration.parse(value);
      long amount = Long.parseLong(v.replaceAll("[a-z]+$", ""));
      if (v.endsWith("ms")) return Duration.ofMillis(amount);
      if (v.endsWith("m")) return Duration.ofMinutes(amount);
      if (v.endsWith("h")) return Duration.ofHours(amount);
      return Duration.ofSeconds(amount);
    }
  }
}
