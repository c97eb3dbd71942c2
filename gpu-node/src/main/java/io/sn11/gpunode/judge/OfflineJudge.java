package io.sn11.gpunode.judge;

import io.sn11.cluster.domain.JudgeIdentity;
import io.sn11.cluster.scoring.JudgeTally.Side;
import io.sn11.engine.tokenizer.Message;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The judge of the embedded default: a deterministic heuristic on measurable text features, needing no network and
 * no API key. It is a stand-in that keeps the pipeline whole, not a judge of quality: it cannot read meaning.
 *
 * <p>Words are the lower-cased runs of letters and digits of a text. For a reply with n words:
 * <ul>
 *   <li>realism = 0 when the reply is blank or contains a role-break marker ({@link #ROLE_BREAKS}: chat-template
 *       tokens such as {@code <|im_end|>}, {@code [INST]}, {@code </s>}, role labels such as {@code USER:}, or
 *       "as an AI", "language model"); otherwise min(1, n / 8) x min(1, 400 / n): very short and rambling replies
 *       are less plausible turns;</li>
 *   <li>entertainment = (distinct words / n) x min(1, n / 20): a varied vocabulary, and enough of it;</li>
 *   <li>coherency = 1/2 x grounding + 1/2 x trigram variety, where grounding is the share of the reply's distinct
 *       words of four or more characters that also occur in the character prompt or the conversation so far, and
 *       trigram variety is distinct word trigrams / word trigrams (1 below three words): on topic, not looping.</li>
 * </ul>
 * Each criterion is won by the reply whose value is higher by more than {@link #MARGIN}; otherwise it is a tie.
 * The reasoning strings give both values.
 */
public final class OfflineJudge implements Judge {
    public static final String NAME = "offline-heuristic-v1";
    public static final double MARGIN = 0.05;
    public static final List<String> ROLE_BREAKS = List.of("<|", "|>", "[inst]", "[/inst]", "<s>", "</s>", "<<sys>>",
            "<start_of_turn>", "<end_of_turn>", "<bos>", "<eos>", "### instruction", "### response", "user:",
            "assistant:", "as an ai", "language model");

    private static final Pattern WORD = Pattern.compile("[\\p{L}\\p{N}]+");

    @Override public String name() { return NAME; }

    @Override public JudgeIdentity identity() { return new JudgeIdentity("offline", NAME, null, null); }

    /** Pure computation: one comparison at a time is enough. */
    @Override public int maxConcurrency() { return 1; }

    @Override
    public Judgement judge(Comparison c) {
        Set<String> contextWords = new HashSet<>(words(c.systemPrompt()));
        for (Message m : c.context()) contextWords.addAll(words(m.content()));
        Features o = Features.of(c.original(), contextWords), g = Features.of(c.generated(), contextWords);
        JudgeVerdict v = new JudgeVerdict(
                winner(g.realism, o.realism), winner(g.entertainment, o.entertainment), winner(g.coherency, o.coherency),
                reasoning("plausible length without role-break markers", g.realism, o.realism),
                reasoning("vocabulary variety x length", g.entertainment, o.entertainment),
                reasoning("grounding in the conversation and trigram variety", g.coherency, o.coherency));
        return new Judgement.Valid(v, NAME);
    }

    record Features(double realism, double entertainment, double coherency) {
        static Features of(String reply, Set<String> contextWords) {
            List<String> w = words(reply);
            int n = w.size();
            if (n == 0) return new Features(0, 0, 0);
            String lower = reply.toLowerCase(Locale.ROOT);
            boolean roleBreak = ROLE_BREAKS.stream().anyMatch(lower::contains);
            double realism = roleBreak ? 0 : Math.min(1, n / 8.0) * Math.min(1, 400.0 / n);
            Set<String> distinct = new HashSet<>(w);
            double entertainment = (double) distinct.size() / n * Math.min(1, n / 20.0);
            return new Features(realism, entertainment, 0.5 * grounding(distinct, contextWords) + 0.5 * trigramVariety(w));
        }

        private static double grounding(Set<String> distinct, Set<String> contextWords) {
            int content = 0, grounded = 0;
            for (String word : distinct) {
                if (word.length() < 4) continue;
                content++;
                if (contextWords.contains(word)) grounded++;
            }
            return content == 0 ? 0 : (double) grounded / content;
        }

        private static double trigramVariety(List<String> w) {
            if (w.size() < 3) return 1;
            Set<String> distinct = new HashSet<>();
            for (int i = 0; i + 3 <= w.size(); i++) distinct.add(w.get(i) + " " + w.get(i + 1) + " " + w.get(i + 2));
            return (double) distinct.size() / (w.size() - 2);
        }
    }

    static List<String> words(String text) {
        List<String> out = new ArrayList<>();
        Matcher m = WORD.matcher(text.toLowerCase(Locale.ROOT));
        while (m.find()) out.add(m.group());
        return out;
    }

    private static Side winner(double generated, double original) {
        if (generated - original > MARGIN) return Side.GENERATED;
        if (original - generated > MARGIN) return Side.ORIGINAL;
        return Side.TIE;
    }

    private static String reasoning(String measure, double generated, double original) {
        return String.format(Locale.ROOT, "%s: generated %.3f, original %.3f (margin %.2f)", measure, generated, original,
                MARGIN);
    }
}
