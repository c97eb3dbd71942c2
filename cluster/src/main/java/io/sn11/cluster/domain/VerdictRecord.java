package io.sn11.cluster.domain;

import io.sn11.cluster.CborSerializable;
import java.util.List;

/**
 * One judged sample as stored with the evaluation: both conversations (the shared turns, then each last
 * turn), the verdict and its reasoning, or the error.
 *
 * @param realism original, generated or tie; null when the judgement failed (likewise the other criteria)
 * @param judge the judge (and provider) that gave the verdict; null when it failed
 * @param error why the judgement failed; null when it succeeded
 * @param judgeIdentity the judge asked, precisely (kind, model, content hash, engine version); null in verdicts stored
 *     before judges recorded it
 */
public record VerdictRecord(
    String sampleId,
    String systemPrompt,
    List<Turn> context,
    String originalReply,
    String generatedReply,
    String realism,
    String entertainment,
    String coherency,
    String realismReasoning,
    String entertainmentReasoning,
    String coherencyReasoning,
    String judge,
    String error,
    JudgeIdentity judgeIdentity)
    implements CborSerializable {

  /** One turn of the conversation before the judged reply: role system, user or assistant. */
  public record Turn(String role, String content) implements CborSerializable {}
}
