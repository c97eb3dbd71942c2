package io.sn11.gpunode.worker;

import io.sn11.cluster.domain.Failure;
import io.sn11.cluster.domain.FailureCategory;
import io.sn11.cluster.work.EvaluationWork.Assignment;
import io.sn11.cluster.work.EvaluationWork.Failed;
import io.sn11.cluster.work.EvaluationWork.Progress;
import io.sn11.cluster.work.EvaluationWork.Running;
import io.sn11.cluster.work.EvaluationWork.Update;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.FutureTask;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * A worker slot's child for one attempt: runs the {@link Evaluator} on an evaluation thread, passes its
 * progress to the slot, and ends with exactly one {@code RunFinished}: the outcome, a crash, or the
 * time limit. When it stops early (the time limit, the attempt is no longer this node's, the node is leaving),
 * the evaluation thread is interrupted, which kills an evaluation JVM at once, and an evaluation in this JVM is
 * cancelled at its next progress report.
 */
final class EvaluationRun {
  private EvaluationRun() {}

  interface Command {}

  private record Finished(Update outcome, Throwable crash) implements Command {}

  private enum TimedOut implements Command {
    INSTANCE
  }

  static Behavior<Command> create(
      Evaluator evaluator, Assignment assignment, ActorRef<WorkerSlot.Command> slot, Executor evaluationThreads, Duration timeout) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers -> {
                  AtomicBoolean cancelled = new AtomicBoolean();
                  int attempt = assignment.attempt();
                  Evaluator.ProgressSink sink =
                      new Evaluator.ProgressSink() {
                        @Override
                        public void running() {
                          report(new Running());
                        }

                        @Override
                        public void progress(String phase, double fraction) {
                          report(new Progress(phase, Math.max(0, Math.min(1, fraction))));
                        }

                        private void report(Update update) {
                          if (cancelled.get()) throw new CancellationException("evaluation of " + assignment.hash() + " cancelled");
                          slot.tell(new WorkerSlot.RunReported(attempt, update));
                        }
                      };
                  CompletableFuture<Update> outcome = new CompletableFuture<>();
                  FutureTask<Update> evaluation =
                      new FutureTask<>(() -> evaluator.evaluate(assignment, sink)) {
                        @Override
                        protected void done() {
                          try {
                            outcome.complete(get());
                          } catch (ExecutionException e) {
                            outcome.completeExceptionally(e.getCause());
                          } catch (CancellationException | InterruptedException e) {
                            outcome.completeExceptionally(e);
                          }
                        }
                      };
                  context.pipeToSelf(outcome, Finished::new);
                  evaluationThreads.execute(evaluation);
                  timers.startSingleTimer(TimedOut.INSTANCE, timeout);

                  return Behaviors.receive(Command.class)
                      .onMessage(
                          Finished.class,
                          finished -> {
                            slot.tell(new WorkerSlot.RunFinished(attempt, finished.crash() == null ? finished.outcome() : crashed(finished.crash())));
                            return Behaviors.stopped();
                          })
                      .onMessageEquals(
                          TimedOut.INSTANCE,
                          () -> {
                            slot.tell(new WorkerSlot.RunFinished(attempt, infrastructure("the evaluation took longer than " + timeout)));
                            return Behaviors.stopped();
                          })
                      .onSignal(
                          PostStop.class,
                          stop -> {
                            cancelled.set(true);
                            evaluation.cancel(true);
                            return Behaviors.same();
                          })
                      .build();
                }));
  }

  private static Update crashed(Throwable crash) {
    return infrastructure("the evaluation crashed: " + crash);
  }

  private static Update infrastructure(String reason) {
    return new Failed(new Failure(reason, FailureCategory.INFRASTRUCTURE));
  }
}
