package io.sn11.gpunode.worker;

import io.sn11.cluster.domain.JudgeIdentity;
import io.sn11.cluster.domain.Scores;
import io.sn11.cluster.scoring.ScoreInputs;
import io.sn11.cluster.scoring.ScoringSettings;
import io.sn11.cluster.scoring.TotalScore;
import io.sn11.cluster.work.EvaluationWork.Completed;
import io.sn11.cluster.work.EvaluationWork.Update;
import io.sn11.gpunode.judge.JudgeOutcome;
import io.sn11.gpunode.judge.JudgeStep;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The node's part of an evaluation: the replies the evaluation JVM wrote are judged by the node's resident judge
 * (phase {@code judge}), and the tally completes the scores: judge score, then the total. Too many failed judgements
 * fail the evaluation, blamed as {@link JudgeStep} says.
 */
final class RepliesJudging {
  private final JudgeStep step;
  private final ScoringSettings scoring;

  RepliesJudging(JudgeStep step, ScoringSettings scoring) {
    this.step = step;
    this.scoring = scoring;
  }

  Update complete(Replies replies, Evaluator.ProgressSink progress) throws InterruptedException {
    JudgeOutcome judged = step.judge(replies.generated(), progress::progress);
    if (!judged.succeeded()) return ModelScoring.failure(judged.failureReason(), judged.failureCategory());
    return new Completed(scores(replies, judged.score()), info(replies, judged), judged.verdicts());
  }

  private Scores scores(Replies r, double judge) {
    double latency = TotalScore.latencyScore(r.latencyMs(), scoring);
    Double total = TotalScore.of(new ScoreInputs(r.evalScore(), r.creativity(), latency, null, judge), scoring);
    return new Scores(TotalScore.modelSizeScore(r.weightBytes(), scoring), r.evalScore(), latency, total, null, r.creativity(), null, judge);
  }

  /** The evaluation JVM's info, then the judge's: who judged (name and identity), how it went, what generation took. */
  private static Map<String, String> info(Replies r, JudgeOutcome judged) {
    Map<String, String> info = new LinkedHashMap<>(r.evaluationInfo());
    info.put("judge", judged.judgeName());
    JudgeIdentity identity = judged.judgeIdentity();
    info.put("judge_kind", identity.kind());
    info.put("judge_model", identity.model());
    if (identity.contentHash() != null) info.put("judge_content_hash", identity.contentHash());
    if (identity.engineVersion() != null) info.put("judge_engine_version", identity.engineVersion());
    info.put("judge_valid_verdicts", Integer.toString(judged.validVerdicts()));
    info.put("judge_failed", Integer.toString(judged.failed()));
    info.put("generated_tokens", Integer.toString(r.generated().generatedTokens()));
    info.put("generation_tokens_per_second", Double.toString(r.generated().tokensPerSecond()));
    return info;
  }
}
