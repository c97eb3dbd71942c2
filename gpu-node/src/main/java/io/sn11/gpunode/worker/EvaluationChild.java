package io.sn11.gpunode.worker;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.typesafe.config.ConfigFactory;
import io.sn11.cluster.domain.FailureCategory;
import io.sn11.cluster.work.EvaluationWork.Progress;
import io.sn11.cluster.work.EvaluationWork.Running;
import io.sn11.cluster.work.EvaluationWork.Update;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The evaluation JVM's side ({@code evaluate-child}, started by {@link EvaluationProcess}): reads one
 * {@link EvaluationJob} as a JSON line on standard input, runs {@link ModelScoring}, and writes JSON lines on standard
 * output: the {@code Running} and {@code Progress} updates as they happen, then either the final {@code Failed} (or a
 * {@code Completed}) or, when the model passed everything up to the judge, its {@link Replies} for the node to judge
 * with its resident judge. Everything else (logs, libraries) goes to standard error. Standard input stays open for as long as
 * the node wants the result: at its end (the node is gone) this JVM halts rather than run on unwatched.
 */
public final class EvaluationChild {
  /** The exit status of a JVM out of memory: what -XX:+ExitOnOutOfMemoryError exits with, and this class too. */
  static final int OUT_OF_MEMORY = 3;

  /** The exit status when the node went away mid-evaluation. */
  static final int NODE_GONE = 4;

  /** Components only: an update's isFinal() is no property of it. */
  private static final ObjectMapper JSON = JsonMapper.builder().disable(MapperFeature.AUTO_DETECT_IS_GETTERS).build();
  private static final ObjectWriter UPDATES_OUT = JSON.writerFor(Update.class);
  private static final ObjectReader UPDATES_IN = JSON.readerFor(Update.class);
  private static final ObjectReader REPLIES_IN = JSON.readerFor(RepliesLine.class).with(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  /** The replies' line: one field, {@code replies}, never an update's {@code @type}. */
  record RepliesLine(Replies replies) {}

  private EvaluationChild() {}

  /** Evaluates the job read from {@code in}, writing the updates to {@code out}; the process's exit status. */
  public static int run(InputStream in, OutputStream out) throws IOException {
    BufferedReader node = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
    String jobLine = node.readLine();
    if (jobLine == null) return NODE_GONE;
    EvaluationJob job = JSON.readValue(jobLine, EvaluationJob.class);
    haltWhenTheNodeIsGone(node);
    // An OutOfMemoryError thrown by Java code (direct buffers) rather than the VM, on any thread, ends this JVM as the VM's would.
    Thread.setDefaultUncaughtExceptionHandler((thread, e) -> haltIfOutOfMemory(e));
    PrintStream updates = new PrintStream(out, false, StandardCharsets.UTF_8);
    Evaluator.ProgressSink progress =
        new Evaluator.ProgressSink() {
          @Override
          public void running() {
            write(updates, line(new Running()));
          }

          @Override
          public void progress(String phase, double fraction) {
            write(updates, line(new Progress(phase, fraction)));
          }
        };
    ChildOutcome outcome;
    try {
      // The node rendered its settings resolved and complete: no libraries' reference.conf to read here (a second at start).
      outcome = ModelScoring.fromConfig(ConfigFactory.parseString(job.settings())).score(job, progress);
    } catch (Throwable crash) { // the node is told why, whatever it was
      haltIfOutOfMemory(crash);
      crash.printStackTrace();
      outcome = ModelScoring.failed("the evaluation crashed: " + crash, FailureCategory.INFRASTRUCTURE);
    }
    write(updates, switch (outcome) {
      case ChildOutcome.Final f -> line(f.update());
      case Replies r -> line(r);
    });
    return updates.checkError() ? 1 : 0;
  }

  /** One update as the line the node reads. */
  static String line(Update update) {
    try {
      return UPDATES_OUT.writeValueAsString(update);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The update a line of the child's output holds; empty for any other output (a library writing to stdout). */
  static Optional<Update> parse(String line) {
    if (!line.startsWith("{")) return Optional.empty();
    try {
      return Optional.of(UPDATES_IN.readValue(line));
    } catch (IOException notAnUpdate) {
      return Optional.empty();
    }
  }

  /** The replies as the line the node reads. */
  static String line(Replies replies) {
    try {
      return JSON.writeValueAsString(new RepliesLine(replies));
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The replies a line of the child's output holds; empty for any other line. */
  static Optional<Replies> parseReplies(String line) {
    if (!line.startsWith("{\"replies\"")) return Optional.empty();
    try {
      return Optional.ofNullable(REPLIES_IN.<RepliesLine>readValue(line).replies());
    } catch (IOException notReplies) {
      return Optional.empty();
    }
  }

  static String line(EvaluationJob job) {
    try {
      return JSON.writeValueAsString(job);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void write(PrintStream updates, String line) {
    synchronized (updates) {
      updates.println(line);
      updates.flush();
    }
  }

  private static void haltWhenTheNodeIsGone(BufferedReader node) {
    Thread watch =
        new Thread(
            () -> {
              try {
                while (node.read() >= 0) {
                  // the node writes nothing more: only the end matters
                }
              } catch (IOException closed) {
                // as the end
              }
              Runtime.getRuntime().halt(NODE_GONE);
            },
            "sn11-evaluation-node-watch");
    watch.setDaemon(true);
    watch.start();
  }

  private static void haltIfOutOfMemory(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof OutOfMemoryError) {
        System.err.println("sn11 evaluation: " + t);
        Runtime.getRuntime().halt(OUT_OF_MEMORY);
      }
    }
  }
}
