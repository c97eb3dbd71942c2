package io.sn11.launcher;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sn11.cluster.scoring.ModelHash;
import io.sn11.coordinator.http.Ss58Address;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code sn11 loadtest}: many simulated validators and miners against a coordinator for a while, then a
 * check that every submission the server accepted is in the record.
 */
@Command(
    name = "loadtest",
    mixinStandardHelpOptions = true,
    description = {
      "Drive a coordinator with a realistic mix for a while: submissions (10%), status polls of submitted models (60%), the minerboard (15%) and weights (15%).",
      "Prints throughput, p50/p95/p99 latency and errors per request type, then checks that every accepted submission is in the record: \"lost: 0\" or the missing ones.",
      "Submissions need an admin token (--token, $SN11_ADMIN_TOKEN or <data-dir>/admin-token). The server's per-client rate limits apply to the load too: 429s are counted as errors."
    })
final class LoadtestCommand implements Callable<Integer> {
  @Mixin ApiClient api;

  @Option(names = "--target", description = "The coordinator's HTTP API (same as --url).")
  java.net.URI target;

  @Option(names = "--duration", defaultValue = "60s", converter = SecondsConverter.class, description = "How long to drive the load, e.g. 60s or 5m (default: ${DEFAULT-VALUE}).")
  Duration duration;

  @Option(names = "--users", defaultValue = "16", description = "Simulated clients, each sending its next request as soon as the last is answered (default: ${DEFAULT-VALUE}).")
  int users;

  @Option(names = "--block", defaultValue = "1000", description = "Block of the submissions and of the weights asked for (default: ${DEFAULT-VALUE}).")
  long block;

  /** What one kind of request measured. */
  private static final class Tally {
    final ConcurrentLinkedQueue<Long> nanos = new ConcurrentLinkedQueue<>();
    final LongAdder errors = new LongAdder();
    final Map<Integer, LongAdder> statuses = new ConcurrentHashMap<>();
  }

  private final Map<String, Tally> tallies = new ConcurrentHashMap<>();
  /** Accepted submissions: hash → namespace/name/hotkey query. */
  private final Map<String, Map<String, Object>> accepted = new ConcurrentHashMap<>();
  /** The same models, for picking one at random to poll. */
  private final List<Map<String, Object>> pollable = Collections.synchronizedList(new ArrayList<>());
  private final AtomicInteger submissions = new AtomicInteger();
  private final String run = Long.toHexString(System.nanoTime());

  @Override
  public Integer call() throws Exception {
    if (target != null) api.url = target;
    if (users < 1) throw new IllegalArgumentException("--users must be at least 1");
    long deadline = System.nanoTime() + duration.toNanos();
    ExecutorService pool = Executors.newFixedThreadPool(users);
    long started = System.nanoTime();
    for (int user = 0; user < users; user++) {
      pool.submit(() -> {
        while (System.nanoTime() < deadline) oneRequest();
        return null;
      });
    }
    pool.shutdown();
    pool.awaitTermination(duration.toSeconds() + 120, TimeUnit.SECONDS);
    double seconds = (System.nanoTime() - started) / 1e9;
    report(seconds);
    return checkNothingLost();
  }

  private void oneRequest() {
    int pick = ThreadLocalRandom.current().nextInt(100);
    try {
      if (pick < 10 || pollable.isEmpty()) {
        submit();
      } else if (pick < 70) {
        Map<String, Object> model;
        synchronized (pollable) {
          model = pollable.get(ThreadLocalRandom.current().nextInt(pollable.size()));
        }
        timed("status", () -> api.get("/model_submission_details?" + query(model)));
      } else if (pick < 85) {
        timed("minerboard", () -> api.get("/minerboard"));
      } else {
        timed("weights", () -> api.get("/weights?current_block=" + block));
      }
    } catch (Exception e) {
      // A request this client could not even build (no admin token, say): counted, and the run goes on.
      tallies.computeIfAbsent("client", t -> new Tally()).errors.increment();
    }
  }

  private void submit() throws Exception {
    int n = submissions.incrementAndGet();
    String namespace = "load-" + run;
    String name = "model-" + n;
    String hotkey = Ss58Address.encode(42, MessageDigest.getInstance("SHA-256").digest((run + "/" + n).getBytes(StandardCharsets.UTF_8)));
    String hash = ModelHash.of(namespace, name, "chatml", hotkey);
    ObjectNode body =
        ApiClient.JSON.createObjectNode()
            .put("repo_namespace", namespace)
            .put("repo_name", name)
            .put("chat_template_type", "chatml")
            .put("hotkey", hotkey)
            .put("hash", hash)
            .put("block", block);
    ApiClient.Answer answer = timed("submit", () -> api.post("/check_model", body, true));
    if (answer != null && answer.ok()) {
      Map<String, Object> model = Map.of("repo_namespace", namespace, "repo_name", name, "chat_template_type", "chatml", "hotkey", hotkey, "hash", hash);
      accepted.put(hash, model);
      pollable.add(model);
    }
  }

  @FunctionalInterface
  private interface Request {
    ApiClient.Answer send() throws Exception;
  }

  /** Sends and measures; an exception or a non-2xx answer counts as an error of that request type. */
  private ApiClient.Answer timed(String type, Request request) {
    Tally tally = tallies.computeIfAbsent(type, t -> new Tally());
    long t0 = System.nanoTime();
    try {
      ApiClient.Answer answer = request.send();
      tally.nanos.add(System.nanoTime() - t0);
      tally.statuses.computeIfAbsent(answer.status(), s -> new LongAdder()).increment();
      if (!answer.ok()) tally.errors.increment();
      return answer;
    } catch (Exception e) {
      tally.nanos.add(System.nanoTime() - t0);
      tally.errors.increment();
      return null;
    }
  }

  private void report(double seconds) {
    System.out.printf("%-11s %9s %9s %9s %9s %9s %8s  %s%n", "request", "count", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "statuses");
    long total = 0;
    for (String type : List.of("submit", "status", "minerboard", "weights", "client")) {
      Tally tally = tallies.get(type);
      if (tally == null) continue;
      List<Long> sorted = new ArrayList<>(tally.nanos);
      Collections.sort(sorted);
      total += sorted.size();
      System.out.printf(
          "%-11s %9d %9.1f %9.2f %9.2f %9.2f %8d  %s%n",
          type, sorted.size(), sorted.size() / seconds, percentile(sorted, 50), percentile(sorted, 95), percentile(sorted, 99), tally.errors.sum(),
          new java.util.TreeMap<>(tally.statuses));
    }
    System.out.printf("all         %9d %9.1f   over %.1f s with %d users%n", total, total / seconds, seconds, users);
  }

  private static double percentile(List<Long> sorted, int p) {
    if (sorted.isEmpty()) return 0;
    int index = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
    return sorted.get(Math.max(0, index)) / 1e6;
  }

  /** Every accepted submission must answer with its own record. */
  private int checkNothingLost() throws Exception {
    List<String> missing = new ArrayList<>();
    for (Map.Entry<String, Map<String, Object>> model : accepted.entrySet()) {
      ApiClient.Answer answer = api.get("/model_submission_details?" + query(model.getValue()));
      if (!answer.ok() || !model.getKey().equals(answer.body().path("details").path("model_hash").asText())) missing.add(model.getKey());
    }
    System.out.printf("accepted submissions: %d, checked in the record: %d%n", accepted.size(), accepted.size() - missing.size());
    if (missing.isEmpty()) {
      System.out.println("lost: 0");
      return 0;
    }
    System.out.println("lost: " + missing.size() + " " + missing);
    return 1;
  }

  private static String query(Map<String, Object> fields) {
    StringBuilder query = new StringBuilder();
    fields.forEach((k, v) -> query.append(query.length() == 0 ? "" : "&").append(k).append('=').append(java.net.URLEncoder.encode(v.toString(), StandardCharsets.UTF_8)));
    return query.toString();
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
