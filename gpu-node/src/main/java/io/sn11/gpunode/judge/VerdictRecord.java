package io.sn11.gpunode.judge;

import io.sn11.gpunode.engine.tokenizer.Message;

import java.util.List;

/**
 * One judged sample as stored with the evaluation: both conversations (the shared turns, then each last turn), the
 * verdict and its reasoning, or the error. Serialisable by Jackson.
 *
 * @param realism       original, generated or tie; null when the judgement failed (likewise the other criteria)
 * @param judge         the judge (and provider) that gave the verdict; null when it failed
 * @param error         why the judgement failed; null when it succeeded
 */
public record VerdictRecord(String sampleId, String systemPrompt, List<Message> context, String originalReply,
                            String generatedReply, String realism, String entertainment, String coherency,
                            String realismReasoning, String entertainmentReasoning, String coherencyReasoning,
                            String judge, String error) {

    static VerdictRecord of(Comparison c, Judgement j) {
        if (j instanceof Judgement.Valid v) {
            JudgeVerdict d = v.verdict();
            return new VerdictRecord(c.sampleId(), c.systemPrompt(), c.context(), c.original(), c.generated(),
                    JudgeVerdict.wireName(d.realism()), JudgeVerdict.wireName(d.entertainment()),
                    JudgeVerdict.wireName(d.coherency()), d.realismReasoning(), d.entertainmentReasoning(),
                    d.coherencyReasoning(), v.judgedBy(), null);
        }
        return new VerdictRecord(c.sampleId(), c.systemPrompt(), c.context(), c.original(), c.generated(),
                null, null, null, null, null, null, null, ((Judgement.Failed) j).reason());
    }
}
