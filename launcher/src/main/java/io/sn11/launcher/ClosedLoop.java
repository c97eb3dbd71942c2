package io.sn11.launcher;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/** Load as a closed loop: each simulated user sends its next request as soon as the last is answered. */
final class ClosedLoop {
  /** Beyond the deadline, how long the requests still in flight may take (the client times out at 30 s). */
  private static final Duration GRACE = Duration.ofSeconds(120);

  private ClosedLoop() {}

  /**
   * Runs {@code request} over and over from {@code users} threads until {@code duration} is up, and
   * returns the seconds it took, the requests answered after the deadline included.
   */
  static double drive(int users, Duration duration, Runnable request) throws InterruptedException {
    long started = System.nanoTime();
    long deadline = started + duration.toNanos();
    ExecutorService pool = Executors.newFixedThreadPool(users);
    for (int user = 0; user < users; user++) {
      pool.execute(() -> {
        while (System.nanoTime() < deadline) request.run();
      });
    }
    pool.shutdown();
    if (!pool.awaitTermination(duration.plus(GRACE).toMillis(), TimeUnit.MILLISECONDS)) {
      pool.shutdownNow();
      throw new IllegalStateException("requests still unanswered " + GRACE.toSeconds() + " s after the end of the load");
    }
    return (System.nanoTime() - started) / 1e9;
  }
}
