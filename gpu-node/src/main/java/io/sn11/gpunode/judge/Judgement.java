package io.sn11.gpunode.judge;

/** The result of judging one comparison: a verdict, or why there is none. */
public sealed interface Judgement {

    /** @param judgedBy which judge (and provider) gave the verdict */
    record Valid(JudgeVerdict verdict, String judgedBy) implements Judgement {}

    record Failed(FailureKind kind, String reason) implements Judgement {}

    /** Why a judgement failed; decides whom an evaluation with too many failures is blamed on. */
    enum FailureKind {
        /** No judge could be asked: connection refused, timeouts, 5xx or 429 after the retries, auth errors. */
        JUDGE_UNAVAILABLE,
        /** A judge answered, but not with a valid verdict (malformed JSON, missing or unknown fields). */
        JUDGE_INVALID_ANSWER,
        /** The judge refused to give a verdict on the model's reply (a refusal, or its content filter). */
        REPLY_UNUSABLE
    }
}
