package io.sn11.gpunode.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sn11.cluster.domain.Failure;
import io.sn11.cluster.domain.FailureCategory;
import io.sn11.cluster.domain.Scores;
import io.sn11.cluster.domain.VerdictRecord;
import io.sn11.cluster.work.EvaluationWork.Completed;
import io.sn11.cluster.work.EvaluationWork.Failed;
import io.sn11.cluster.work.EvaluationWork.Progress;
import io.sn11.cluster.work.EvaluationWork.Running;
import io.sn11.cluster.work.EvaluationWork.Update;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The lines between a node and its evaluation JVM. */
class EvaluationChildTest {
  @Test
  void everyUpdateComesBackFromItsLine() {
    VerdictRecord verdict =
        new VerdictRecord("s1", "be a bard", List.of(new VerdictRecord.Turn("user", "sing")), "la", "lo", "tie", "generated", "original",
            "r", "e", "c", "offline-heuristic-v1", null);
    List<Update> updates =
        List.of(
            new Running(),
            new Progress("eval", 0.25),
            new Completed(new Scores(0.9, 0.1, 0.8, 0.5, null, 0.7, null, 0.5), Map.of("backend", "cpu"), List.of(verdict)),
            new Failed(new Failure("tokenizer.json is not a usable tokenizer: EOF", FailureCategory.MINER)));
    for (Update update : updates) assertEquals(Optional.of(update), EvaluationChild.parse(EvaluationChild.line(update)));
  }

  @Test
  void otherOutputIsNoUpdate() {
    assertEquals(Optional.empty(), EvaluationChild.parse("[warn] some library printing to stdout"));
    assertEquals(Optional.empty(), EvaluationChild.parse("{\"not\": \"an update\"}"));
  }
}
