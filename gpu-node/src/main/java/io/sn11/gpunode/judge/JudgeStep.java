package io.sn11.gpunode.judge;

import io.sn11.cluster.domain.JudgeIdentity;
import io.sn11.cluster.domain.VerdictRecord;
import io.sn11.cluster.scoring.ScoringSettings;

import io.sn11.cluster.domain.FailureCategory;
import io.sn11.cluster.scoring.JudgeTally;
import io.sn11.engine.GenerationOptions;
import io.sn11.engine.Generator;
import io.sn11.engine.Transformer;
import io.sn11.engine.data.Conversation;
import io.sn11.engine.tokenizer.ChatTemplate;
import io.sn11.engine.tokenizer.Message;
import io.sn11.engine.tokenizer.Tokenizer;
import io.sn11.gpunode.judge.Judgement.FailureKind;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The judge score of a model: the model writes the last assistant turn of each sampled conversation (batched, in the
 * evaluation JVM: {@link #generate}), the node's judge compares each with the original ({@link Judge#judgeAll}: batched
 * or concurrent as the judge can), and the subnet's tally turns the verdicts into the score ({@link #judge}).
 *
 * <p>Every reply is judged, an empty one too: it loses like any poor reply, as in the subnet; it is not a failed
 * judgement. Failed judgements are the judge's: unreachable, or no valid verdict. Blame when more than the allowed
 * fraction of judgements failed: {@code miner} when the failures the model caused would have failed the evaluation on
 * their own, else {@code infrastructure} (retrying later may succeed). The model caused a failure when the judge
 * refused its reply (a refusal or a content filter), and when the judge answered with an invalid verdict while giving
 * valid verdicts for other replies of the same model (so the judge itself works).
 */
public final class JudgeStep {
    public static final String GENERATE = "generate";
    public static final String JUDGE = "judge";
    private static final int REASONS_SHOWN = 3;

    /** Progress of the step, called on the thread that runs it: phase {@link #GENERATE} or {@link #JUDGE}, 0..1. */
    @FunctionalInterface
    public interface Progress {
        void report(String phase, double fraction);
    }

    private final Judge judge;
    private final double maxFailedFraction;

    public JudgeStep(Judge judge, double maxFailedFraction) {
        this.judge = judge;
        this.maxFailedFraction = maxFailedFraction;
    }

    /** The step with the node's judge and the scoring rule's allowance of failed judgements. */
    public static JudgeStep of(Judge judge, ScoringSettings scoring) {
        return new JudgeStep(judge, scoring.maxFailedJudgementFraction());
    }

    /** The model's replies to judge, and what generating them took. */
    public record Generated(List<Comparison> comparisons, int generatedTokens, double tokensPerSecond) {
        public Generated {
            comparisons = List.copyOf(comparisons);
        }
    }

    /**
     * The model writes the last assistant turn of each conversation (phase {@link #GENERATE}): in the evaluation JVM,
     * which holds the miner's model.
     */
    public static Generated generate(Transformer model, Tokenizer tok, ChatTemplate template, List<Conversation> conversations,
                                     GenerationOptions generation, Progress progress) {
        List<List<Message>> histories = conversations.stream()
                .map(c -> c.messages().subList(0, c.messages().size() - 1)).toList();
        Generator.Result generated = Generator.replies(model, tok, template, histories, generation,
                f -> progress.report(GENERATE, f));
        List<Comparison> comparisons = new ArrayList<>();
        for (int i = 0; i < conversations.size(); i++) {
            comparisons.add(Comparison.of(conversations.get(i), generated.replies().get(i).text()));
        }
        return new Generated(comparisons, generated.generatedTokens(), generated.tokensPerSecond());
    }

    /**
     * The judge's verdicts on replies already written (phase {@link #JUDGE}), tallied: on the node, with its resident
     * judge; the generation figures are passed through.
     */
    public JudgeOutcome judge(Generated replies, Progress progress) throws InterruptedException {
        List<Comparison> comparisons = replies.comparisons();
        List<Judgement> judgements = judge.judgeAll(comparisons, f -> progress.report(JUDGE, f));
        JudgeIdentity identity = judge.identity();
        List<VerdictRecord> records = new ArrayList<>();
        List<Optional<JudgeTally.Verdict>> tallied = new ArrayList<>();
        for (int i = 0; i < comparisons.size(); i++) {
            Judgement j = judgements.get(i);
            records.add(record(comparisons.get(i), j, identity));
            tallied.add(j instanceof Judgement.Valid v ? Optional.of(v.verdict().toTally()) : Optional.empty());
        }
        JudgeTally.Result t = JudgeTally.tally(tallied, maxFailedFraction);
        FailureCategory category = t.failedTooOften() ? blame(judgements, t.validVerdicts()) : null;
        return new JudgeOutcome(judge.name(), identity, t.score(), t.validVerdicts(), t.failed(), t.generatedWins(), category,
                category == null ? null : failureReason(judgements), List.copyOf(records), replies.generatedTokens(),
                replies.tokensPerSecond());
    }

    private FailureCategory blame(List<Judgement> judgements, int validVerdicts) {
        if (judgements.isEmpty()) return FailureCategory.INFRASTRUCTURE; // nothing was sampled: not the model's doing
        int causedByModel = 0;
        for (Judgement j : judgements) {
            if (j instanceof Judgement.Failed f && (f.kind() == FailureKind.REPLY_UNUSABLE
                    || (f.kind() == FailureKind.JUDGE_INVALID_ANSWER && validVerdicts > 0))) {
                causedByModel++;
            }
        }
        return JudgeTally.tooManyFailures(causedByModel, judgements.size(), maxFailedFraction)
                ? FailureCategory.MINER : FailureCategory.INFRASTRUCTURE;
    }

    private String failureReason(List<Judgement> judgements) {
        if (judgements.isEmpty()) return "no conversations to judge";
        List<Judgement.Failed> failed = judgements.stream()
                .filter(j -> j instanceof Judgement.Failed).map(j -> (Judgement.Failed) j).toList();
        Map<FailureKind, Long> byKind = new EnumMap<>(FailureKind.class);
        for (Judgement.Failed f : failed) byKind.merge(f.kind(), 1L, Long::sum);
        String counts = byKind.entrySet().stream()
                .map(e -> e.getValue() + " " + e.getKey().name().toLowerCase(Locale.ROOT).replace('_', ' '))
                .collect(Collectors.joining(", "));
        String examples = failed.stream().limit(REASONS_SHOWN).map(Judgement.Failed::reason)
                .collect(Collectors.joining(" | "));
        return String.format(Locale.ROOT, "%d of %d judgements failed (more than %.0f%%; %s): %s", failed.size(),
                judgements.size(), maxFailedFraction * 100, counts, examples);
    }

    /** The stored form of one judged comparison. */
    static VerdictRecord record(Comparison c, Judgement j, JudgeIdentity identity) {
        List<VerdictRecord.Turn> context = c.context().stream().map(m -> new VerdictRecord.Turn(m.role(), m.content())).toList();
        if (j instanceof Judgement.Valid v) {
            JudgeVerdict d = v.verdict();
            return new VerdictRecord(c.sampleId(), c.systemPrompt(), context, c.original(), c.generated(),
                    JudgeVerdict.wireName(d.realism()), JudgeVerdict.wireName(d.entertainment()),
                    JudgeVerdict.wireName(d.coherency()), d.realismReasoning(), d.entertainmentReasoning(),
                    d.coherencyReasoning(), v.judgedBy(), null, identity);
        }
        return new VerdictRecord(c.sampleId(), c.systemPrompt(), context, c.original(), c.generated(),
                null, null, null, null, null, null, null, ((Judgement.Failed) j).reason(), identity);
    }
}
