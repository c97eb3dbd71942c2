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
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * A worker slot's child for one attempt: runs the {@link Evaluator} on an evaluation thread, passes its
 * progress to the slot, and ends with exactly one {@code RunFinished}: the outcome, a crash, or the
 * time limit. When it stops early (the node is leaving), the evaluation is cancelled at its next
 * progress report.
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
                  context.pipeToSelf(
                      CompletableFuture.supplyAsync(() -> evaluate(evaluator, assignment, sink), evaluationThreads),
                      Finished::new);
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
                            return Behaviors.same();
                          })
                      .build();
                }));
  }

  private static Update evaluate(Evaluator evaluator, Assignment assignment, Evaluator.ProgressSink sink) {
    try {
      return evaluator.evaluate(assignment, sink);
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new CompletionException(e);
    }
  }

  private static Update crashed(Throwable crash) {
    Throwable cause = crash instanceof CompletionException && crash.getCause() != null ? crash.getCause() : crash;
    return infrastructure("the evaluation crashed: " + cause);
  }

  private static Update infrastructure(String reason) {
    return new Failed(new Failure(reason, FailureCategory.INFRASTRUCTURE));
  }
}
