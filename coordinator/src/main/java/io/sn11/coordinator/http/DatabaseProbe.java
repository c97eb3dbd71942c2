package io.sn11.coordinator.http;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * Whether the database answered lately, probed in the background. While it does not, requests that
 * need it are answered 503 at once instead of waiting for the cluster's ask timeout: an entity whose
 * journal write fails stops without replying, so its callers would otherwise hang for the whole timeout.
 */
final class DatabaseProbe {
  /** One probe a second: an outage is noticed within seconds, at the cost of one cheap query. */
  private static final Duration INTERVAL = Duration.ofSeconds(1);
  /** A healthy database answers in milliseconds; generous, so that a busy machine is not taken for an outage. */
  private static final Duration TIMEOUT = Duration.ofSeconds(3);

  private final ActorSystem<?> system;
  private final BooleanSupplier answers;
  private final Executor blocking;
  private volatile boolean answering = true;

  DatabaseProbe(ActorSystem<?> system, BooleanSupplier answers, Executor blocking) {
    this.system = system;
    this.answers = answers;
    this.blocking = blocking;
    probe();
  }

  boolean answering() {
    return answering;
  }

  private void probe() {
    if (system.getWhenTerminated().toCompletableFuture().isDone()) return;
    CompletableFuture<Boolean> probe = CompletableFuture.supplyAsync(answers::getAsBoolean, blocking);
    // A database that does not answer within the timeout counts as down until the probe comes back.
    probe.copy().completeOnTimeout(false, TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).thenAccept(ok -> answering = ok);
    probe.whenComplete(
        (ok, failure) -> {
          answering = ok != null && ok;
          try {
            system.scheduler().scheduleOnce(INTERVAL, this::probe, system.executionContext());
          } catch (IllegalStateException shuttingDown) {
            // the system is terminating: no more probes
          }
        });
  }
}
