package io.sn11.gpunode.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

import io.sn11.cluster.domain.Failure;
import io.sn11.cluster.domain.FailureCategory;
import io.sn11.cluster.domain.JudgeIdentity;
import io.sn11.engine.tokenizer.Message;
import io.sn11.gpunode.judge.Comparison;
import io.sn11.gpunode.judge.JudgeStep;
import java.util.LinkedHashMap;
import io.sn11.cluster.domain.Scores;
import io.sn11.cluster.domain.VerdictRecord;
import io.sn11.cluster.work.EvaluationWork.Completed;
import io.sn11.cluster.work.EvaluationWork.Failed;
import io.sn11.cluster.work.EvaluationWork.Progress;
import io.sn11.cluster.work.EvaluationWork.Running;
import io.sn11.cluster.work.EvaluationWork.Update;
import io.sn11.engine.safetensors.DType;
import io.sn11.engine.tiny.TinyModels;
import io.sn11.gpunode.store.FetchRecord;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The lines between a node and its evaluation JVM, and the JVM's end when the node is gone. */
class EvaluationChildTest {
  @Test
  void everyUpdateComesBackFromItsLine() {
    VerdictRecord verdict =
        new VerdictRecord("s1", "be a bard", List.of(new VerdictRecord.Turn("user", "sing")), "la", "lo", "tie", "generated", "original",
            "r", "e", "c", "offline-heuristic-v1", null, new JudgeIdentity("offline", "offline-heuristic-v1", null, null));
    List<Update> updates =
        List.of(
            new Running(),
            new Progress("eval", 0.25),
            new Completed(new Scores(0.9, 0.1, 0.8, 0.5, null, 0.7, null, 0.5), Map.of("backend", "cpu"), List.of(verdict)),
            new Failed(new Failure("tokenizer.json is not a usable tokenizer: EOF", FailureCategory.MINER)));
    for (Update update : updates) assertEquals(Optional.of(update), EvaluationChild.parse(EvaluationChild.line(update)));
  }

  @Test
  void theRepliesToJudgeComeBackFromTheirLineAndAreNoUpdate() {
    Comparison comparison = new Comparison("s1", "be a bard", List.of(Message.user("sing \"loud\"\n<|im_end|>")), "la", "lo\u00e9");
    Map<String, String> info = new LinkedHashMap<>();
    info.put("content_hash", "ab");
    info.put("backend", "cpu");
    info.put("samples", "1");
    Replies replies = new Replies(0.25, 0.5, 12.5, 1024, info, new JudgeStep.Generated(List.of(comparison), 7, 3.5));
    String line = EvaluationChild.line(replies);
    assertEquals(Optional.of(replies), EvaluationChild.parseReplies(line));
    assertEquals(List.copyOf(info.keySet()), List.copyOf(EvaluationChild.parseReplies(line).orElseThrow().evaluationInfo().keySet()), "in order");
    assertEquals(Optional.empty(), EvaluationChild.parse(line), "no update");
    assertEquals(Optional.empty(), EvaluationChild.parseReplies(EvaluationChild.line(new Running())));
  }

  @Test
  void otherOutputIsNoUpdate() {
    assertEquals(Optional.empty(), EvaluationChild.parse("[warn] some library printing to stdout"));
    assertEquals(Optional.empty(), EvaluationChild.parse("{\"not\": \"an update\"}"));
    assertEquals(Optional.empty(), EvaluationChild.parseReplies("{\"replies\": null}"));
    assertEquals(Optional.empty(), EvaluationChild.parseReplies("{\"replies\": {}, \"more\": 1}"));
  }

  /**
   * The node's end of the evaluation JVM's standard input closes when the node dies (kill -9 included): the JVM halts
   * instead of evaluating on unwatched. Here it waits, past the precheck, on a dataset that is a named pipe nobody
   * writes, when the test closes its standard input.
   */
  @Test
  void anEvaluationWhoseNodeIsGoneHalts(@TempDir Path dir) throws Exception {
    Path model = dir.resolve("acme/tiny/main");
    TinyModels.write(model, TinyModels.Arch.LLAMA, DType.BF16, 1);
    Path dataset = dir.resolve("never-written.jsonl");
    assertEquals(0, new ProcessBuilder("mkfifo", dataset.toString()).inheritIO().start().waitFor(), "mkfifo");
    Config config =
        ConfigFactory.parseMap(Map.of("sn11.gpu-node.backend", "cpu", "sn11.gpu-node.threads", 1, "sn11.gpu-node.evaluation.dataset", dataset.toString()))
            .withFallback(ConfigFactory.defaultReference())
            .resolve();
    EvaluationJob job =
        new EvaluationJob(
            "42", "acme/tiny", "main", "chatml", model.toString(), FetchRecord.of(model, FetchRecord.Origin.FIRST_USE, Map.of()),
            GpuNodeRole.childSettings(config));
    Process child =
        new ProcessBuilder(new EvaluationProcess(GpuNodeSettings.fromConfig(config).evaluation().child()).command(job))
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    try {
      OutputStream node = child.getOutputStream();
      node.write((EvaluationChild.line(job) + "\n").getBytes(StandardCharsets.UTF_8));
      node.flush();
      BufferedReader updates = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
      for (String line = updates.readLine(); !EvaluationChild.parse(line).equals(Optional.of(new Running())); line = updates.readLine()) {
        assertNotNull(line, "the evaluation ended before it was running");
      }
      node.close();
      assertTrue(child.waitFor(2, TimeUnit.MINUTES), "the evaluation runs on without its node");
      assertEquals(EvaluationChild.NODE_GONE, child.exitValue());
    } finally {
      child.destroyForcibly();
    }
  }
}
