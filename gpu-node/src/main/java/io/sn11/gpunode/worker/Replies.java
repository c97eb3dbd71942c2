package io.sn11.gpunode.worker;

import io.sn11.gpunode.judge.JudgeStep;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The evaluation JVM's last line when the model passed everything up to the judge: the partial scores, what shaped
 * them, and the replies to judge. Internal to a gpu-node (it never leaves the node); the node turns it into the
 * {@code Completed} or {@code Failed} it reports.
 *
 * @param evalScore the engine's eval score (the subnet's qualitative score)
 * @param latencyMs the mean forward latency, for the latency score
 * @param weightBytes the weights' size, for the size score
 * @param evaluationInfo what shaped the result so far; the node adds the judge's part
 */
record Replies(double evalScore, double creativity, double latencyMs, long weightBytes, Map<String, String> evaluationInfo,
               JudgeStep.Generated generated) implements ChildOutcome {
  Replies {
    evaluationInfo = Collections.unmodifiableMap(new LinkedHashMap<>(evaluationInfo)); // in the order written
  }
}
