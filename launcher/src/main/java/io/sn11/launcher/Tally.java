package io.sn11.launcher;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/** What one kind of request measured under load: latencies, errors and the HTTP statuses answered. */
final class Tally {
  /** The column titles of {@link Summary#row}. */
  static final String HEADER = String.format("%-11s %9s %9s %9s %9s %9s %8s  %s", "request", "count", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "statuses");

  @FunctionalInterface
  interface Request {
    ApiClient.Answer send() throws Exception;
  }

  @FunctionalInterface
  interface Work {
    void run() throws Exception;
  }

  private final ConcurrentLinkedQueue<Long> nanos = new ConcurrentLinkedQueue<>();
  private final LongAdder errors = new LongAdder();
  private final Map<Integer, LongAdder> statuses = new ConcurrentHashMap<>();
  /** The first exception, so that a run whose requests all fail the same way says why. */
  private final AtomicReference<String> firstFailure = new AtomicReference<>();

  /** Sends and measures; an exception or a non-2xx answer counts as an error. Null when no answer came. */
  ApiClient.Answer send(Request request) {
    long t0 = System.nanoTime();
    try {
      ApiClient.Answer answer = request.send();
      nanos.add(System.nanoTime() - t0);
      statuses.computeIfAbsent(answer.status(), s -> new LongAdder()).increment();
      if (!answer.ok()) errors.increment();
      return answer;
    } catch (Exception e) {
      nanos.add(System.nanoTime() - t0);
      countError(e);
      return null;
    }
  }

  /** Runs and measures work other than an HTTP request (a JDBC insert); an exception counts as an error. */
  void run(Work work) {
    long t0 = System.nanoTime();
    try {
      work.run();
    } catch (Exception e) {
      countError(e);
    }
    nanos.add(System.nanoTime() - t0);
  }

  /** A failure without an answer; also one before anything was sent (a request the client could not even build). */
  void countError(Exception failure) {
    errors.increment();
    firstFailure.compareAndSet(null, failure.toString());
  }

  Summary summary() {
    List<Long> sorted = new ArrayList<>(nanos);
    Collections.sort(sorted);
    Map<Integer, Long> answered = new TreeMap<>();
    statuses.forEach((status, count) -> answered.put(status, count.sum()));
    return new Summary(sorted.size(), errors.sum(), percentile(sorted, 50), percentile(sorted, 95), percentile(sorted, 99), answered, firstFailure.get());
  }

  private static double percentile(List<Long> sorted, int p) {
    if (sorted.isEmpty()) return 0;
    int index = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
    return sorted.get(Math.max(0, index)) / 1e6;
  }

  /** The figures of a tally; latencies in milliseconds; {@code firstFailure} null when no request failed without an answer. */
  record Summary(int count, long errors, double p50, double p95, double p99, Map<Integer, Long> statuses, String firstFailure) {
    /** Successful requests per second over {@code seconds}. */
    double succeededPerSecond(double seconds) {
      return (count - errors) / seconds;
    }

    /** One row of the table under {@link #HEADER}. */
    String row(String type, double seconds) {
      String row = String.format("%-11s %9d %9.1f %9.2f %9.2f %9.2f %8d  %s", type, count, count / seconds, p50, p95, p99, errors, statuses);
      return firstFailure == null ? row : row + "  first failure: " + firstFailure;
    }
  }
}
