package io.sn11.gpunode.judge;

import io.sn11.cluster.domain.JudgeIdentity;
import io.sn11.cluster.domain.VerdictRecord;

import io.sn11.cluster.domain.FailureCategory;

import java.util.List;

/**
 * What the judge step found for one model.
 *
 * @param judgeName        the judge that produced the verdicts ({@link Judge#name()})
 * @param judgeIdentity    who that judge is ({@link Judge#identity()}), as each verdict records it
 * @param score            generated wins / (3 x valid verdicts), per the subnet's tally
 * @param failureCategory  null when the evaluation may use the score; else whom too many failed judgements are
 *                         blamed on
 * @param failureReason    null, or a sentence naming the counts and the first failures
 * @param verdicts         one per sampled conversation, in sample order
 * @param generationTokensPerSecond generated tokens per second of generation wall time, prefill included
 */
public record JudgeOutcome(String judgeName, JudgeIdentity judgeIdentity, double score, int validVerdicts, int failed, int generatedWins,
                           FailureCategory failureCategory, String failureReason, List<VerdictRecord> verdicts,
                           int generatedTokens, double generationTokensPerSecond) {
    public boolean succeeded() { return failureCategory == null; }
}
