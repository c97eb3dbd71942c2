package io.sn11.coordinator.testing;

import java.time.Duration;
import java.util.concurrent.Callable;

/** Polls a condition every 50 ms until it holds or a deadline passes: waiting without fixed sleeps. */
public final class Eventually {
  private static final long POLL_MILLIS = 50;

  private Eventually() {}

  /**
   * Returns once {@code condition} answers true; fails with an AssertionError after {@code timeout}. An
   * exception from the condition counts as "not yet" and is attached to the failure if it never holds.
   */
  public static void await(Duration timeout, Callable<Boolean> condition) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    Exception last = null;
    while (true) {
      try {
        if (Boolean.TRUE.equals(condition.call())) return;
        last = null;
      } catch (Exception e) {
        last = e;
      }
      if (System.nanoTime() - deadline >= 0) {
        AssertionError failure = new AssertionError("condition did not hold within " + timeout);
        if (last != null) failure.initCause(last);
        throw failure;
      }
      Thread.sleep(POLL_MILLIS);
    }
  }
}
