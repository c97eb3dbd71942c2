package io.sn11.gpunode.worker;

import io.sn11.cluster.domain.FailureCategory;
import io.sn11.cluster.work.EvaluationWork.Progress;
import io.sn11.cluster.work.EvaluationWork.Running;
import io.sn11.cluster.work.EvaluationWork.Update;
import io.sn11.gpunode.commands.EvaluateChildCommand;
import io.sn11.gpunode.commands.GpuNodeCommands;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs each evaluation in a JVM of its own ({@link EvaluationChild}): this node's java and class path, the memory
 * limits of {@code sn11.gpu-node.evaluation.child}. Its updates are passed on as they come; its standard error is kept
 * (the last lines) for the log and the reason of an abnormal end. The thread waiting for it is the evaluation's:
 * interrupting it (the attempt was abandoned, the node stops) kills the JVM at once.
 *
 * <p>How an end without a result is classified:
 * <ul>
 *   <li>out of memory: the miner's once the precheck passed (the model was within the limits and still took more);
 *       before that ours, since the checks themselves hold little;</li>
 *   <li>killed or stopped from outside (SIGKILL, as the kernel's OOM killer does, SIGTERM, SIGINT, SIGHUP): ours, the
 *       machine rather than the model;</li>
 *   <li>any other signal (SIGABRT from a native library's panic or a JVM crash, SIGSEGV, SIGBUS): the miner's, since
 *       the miner's files reach native code there and such a crash recurs on every retry;</li>
 *   <li>any other exit without a result: ours.</li>
 * </ul>
 */
final class EvaluationProcess {
  private static final Logger log = LoggerFactory.getLogger(EvaluationProcess.class);

  /** How much of the child's standard error is kept. */
  private static final int LOG_TAIL_CHARS = 16 * 1024;

  /** The longest excerpt of the child's output quoted in a failure reason. */
  private static final int REASON_EXCERPT_CHARS = 400;

  /** Lines that say why a JVM ended: an out-of-memory error, a native panic, a JVM crash report's signal. */
  private static final Pattern TELLING_LINE = Pattern.compile(".*(OutOfMemoryError|panicked at|SIGSEGV|SIGBUS|SIGILL|SIGFPE|fatal error).*");

  private static final int SIGNAL_EXIT_BASE = 128;
  private static final List<Integer> SIGNALS_FROM_OUTSIDE = List.of(1, 2, 9, 15);

  private final GpuNodeSettings.ChildSettings settings;

  EvaluationProcess(GpuNodeSettings.ChildSettings settings) {
    this.settings = settings;
  }

  /** Evaluates in a new JVM; the outcome it reported (final, or the replies to judge), or the classification of its end. */
  ChildOutcome run(EvaluationJob job, Evaluator.ProgressSink progress) throws IOException, InterruptedException {
    Process child = new ProcessBuilder(command(job)).start();
    String name = "sn11-evaluation-" + child.pid();
    LogTail errors = new LogTail();
    Thread errorReader = pump(child.getErrorStream(), name + "-err", errors::add, () -> {});
    BlockingQueue<Optional<String>> lines = new LinkedBlockingQueue<>();
    pump(child.getInputStream(), name + "-out", line -> lines.add(Optional.of(line)), () -> lines.add(Optional.empty()));
    try {
      send(job, child.getOutputStream());
      boolean running = false;
      for (Optional<String> line = lines.take(); line.isPresent(); line = lines.take()) {
        Optional<Update> update = EvaluationChild.parse(line.get());
        Optional<Replies> replies = update.isEmpty() ? EvaluationChild.parseReplies(line.get()) : Optional.empty();
        if (replies.isPresent()) {
          return replies.get(); // its last line: one still exiting is ended below
        } else if (update.isEmpty()) {
          errors.add(line.get());
        } else if (update.get() instanceof Running) {
          running = true;
          progress.running();
        } else if (update.get() instanceof Progress p) {
          progress.progress(p.phase(), p.fraction());
        } else if (update.get().isFinal()) {
          return new ChildOutcome.Final(update.get()); // all it had to say: one still exiting is ended below
        }
      }
      int exit = child.waitFor();
      child.descendants().forEach(ProcessHandle::destroyForcibly); // they may hold its standard error open
      errorReader.join();
      Update ended = ended(exit, running, errors);
      log.warn("evaluation of model {} in process {} ended with exit status {} and no result: {}; its last output:\n{}",
          job.hash(), child.pid(), exit, ended, errors.text());
      return new ChildOutcome.Final(ended);
    } finally {
      child.descendants().forEach(ProcessHandle::destroyForcibly);
      child.destroyForcibly();
    }
  }

  /** The job, on a standard input kept open: its end tells the child that this node is gone. */
  private static void send(EvaluationJob job, OutputStream toChild) {
    try {
      toChild.write((EvaluationChild.line(job) + "\n").getBytes(StandardCharsets.UTF_8));
      toChild.flush();
    } catch (IOException childGone) {
      // it ended before reading (a JVM option it refused, say): its exit status and standard error tell why
    }
  }

  /** The evaluation JVM's command line: this JVM's java and class path, the memory limits, the model named for ps. */
  List<String> command(EvaluationJob job) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(io.sn11.engine.EngineJvm.OPTIONS);
    command.add("-D" + EvaluateChildCommand.MODEL_PROPERTY + "=" + job.hash());
    command.add("-Xmx" + settings.maxHeapBytes());
    command.add("-XX:MaxDirectMemorySize=" + settings.maxDirectMemoryBytes());
    command.add("-XX:+ExitOnOutOfMemoryError");
    // A crash report per crashing model belongs with the temporary files, not in the node's working folder.
    command.add("-XX:ErrorFile=" + Path.of(System.getProperty("java.io.tmpdir"), "sn11-evaluation-hs_err_pid%p.log"));
    command.addAll(settings.jvmOptions());
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(GpuNodeCommands.class.getName());
    command.add(EvaluateChildCommand.NAME);
    return command;
  }

  /** What an end without a result means; see the class comment. */
  private Update ended(int exit, boolean running, LogTail errors) {
    String when = running ? "while evaluating the model" : "while checking the model";
    String excerpt = errors.tellingLine().map(line -> ": " + line).orElse("");
    if (exit == EvaluationChild.OUT_OF_MEMORY || errors.tellingLine().filter(line -> line.contains("OutOfMemoryError")).isPresent()) {
      String limits = " (heap " + settings.maxHeapBytes() + " bytes, direct memory " + settings.maxDirectMemoryBytes() + " bytes)";
      return running
          ? ModelScoring.failure("the model ran out of the evaluation's memory" + limits + " after passing the precheck" + excerpt, FailureCategory.MINER)
          : ModelScoring.failure("the evaluation process ran out of memory" + limits + " " + when + excerpt, FailureCategory.INFRASTRUCTURE);
    }
    if (exit > SIGNAL_EXIT_BASE) {
      int signal = exit - SIGNAL_EXIT_BASE;
      if (SIGNALS_FROM_OUTSIDE.contains(signal)) {
        return ModelScoring.failure("the evaluation process was stopped from outside the node (signal " + signal + ") " + when, FailureCategory.INFRASTRUCTURE);
      }
      return ModelScoring.failure("the evaluation process crashed (signal " + signal + ") " + when + excerpt, FailureCategory.MINER);
    }
    return ModelScoring.failure("the evaluation process ended with exit status " + exit + " and no result " + when + excerpt, FailureCategory.INFRASTRUCTURE);
  }

  /** Reads {@code stream} line by line on a thread of its own until its end. */
  private static Thread pump(InputStream stream, String threadName, Consumer<String> onLine, Runnable atEnd) {
    Thread thread =
        new Thread(
            () -> {
              try (BufferedReader reader = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                for (String line = reader.readLine(); line != null; line = reader.readLine()) onLine.accept(line);
              } catch (IOException closed) {
                // the process is gone: as the end
              } finally {
                atEnd.run();
              }
            },
            threadName);
    thread.setDaemon(true);
    thread.start();
    return thread;
  }

  /** The last lines of the child's output, at most {@value #LOG_TAIL_CHARS} characters. */
  private static final class LogTail {
    private final Deque<String> lines = new ArrayDeque<>();
    private int chars;

    synchronized void add(String line) {
      lines.addLast(line);
      chars += line.length() + 1;
      while (chars > LOG_TAIL_CHARS && lines.size() > 1) chars -= lines.removeFirst().length() + 1;
    }

    synchronized String text() {
      return String.join("\n", lines);
    }

    /** The last line saying why the JVM ended, else the last line, shortened for a reason. */
    synchronized Optional<String> tellingLine() {
      Optional<String> telling = lines.stream().filter(line -> TELLING_LINE.matcher(line).matches()).reduce((first, second) -> second);
      return telling.or(() -> Optional.ofNullable(lines.peekLast())).map(String::strip).filter(line -> !line.isEmpty())
          .map(line -> line.length() > REASON_EXCERPT_CHARS ? line.substring(0, REASON_EXCERPT_CHARS) + "..." : line);
    }
  }
}
