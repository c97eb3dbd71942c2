package io.sn11.engine;

import io.sn11.engine.json.JsonAutomaton.Position;
import io.sn11.engine.json.JsonConstraint;
import io.sn11.engine.tokenizer.ChatTemplate;
import io.sn11.engine.tokenizer.Message;
import io.sn11.engine.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.DoubleConsumer;
import java.util.function.Supplier;

/**
 * Writes the next assistant turn of conversations (each ending with a user turn): formats them with the chat
 * template, prefills a batch of prompts in one pass, then decodes every unfinished sequence of the batch in one
 * batched step per token, each with its own kv cache and sampler. A sequence finishes at an end-of-turn marker of
 * the template (a single-token marker or a stop string appearing in the decoded text), at one of the model's EOS
 * ids, at the token limit, or when its context is full; the reply is the text before the first stop string.
 *
 * <p>Under a {@link JsonConstraint} each sequence follows the constraint from its own position: before sampling, the
 * logits of the tokens that would leave the document's shape (or could no longer finish it in the tokens left) are set
 * to negative infinity, and the sequence ends when its document is complete. The template's markers do not apply
 * then: they could be text inside a JSON string.
 */
public final class Generator {
    private Generator() {}

    public enum Finish {
        /** An end-of-turn marker or EOS ended the reply. */
        END_OF_TURN,
        /** The token limit or the model's context length cut the reply. */
        MAX_TOKENS
    }

    /** One reply: its text (stop strings cut off), how many tokens were generated for it and why it ended. */
    public record Reply(String text, int tokens, Finish finish) {}

    /** The replies in input order and what generating them cost. */
    public record Result(List<Reply> replies, int promptTokens, int generatedTokens, long nanos) {
        /** Generated tokens per second of wall time, prefill included. */
        public double tokensPerSecond() { return nanos == 0 ? 0 : generatedTokens * 1e9 / nanos; }
    }

    /** A sequence being decoded. */
    private static final class Live {
        final int index;
        final Transformer.Sequence seq;
        final Sampler sampler;
        final List<Integer> tokens = new ArrayList<>();
        int next;
        /** Where the constrained document stands; null without a constraint. */
        Position position;

        Live(int index, Transformer.Sequence seq, Sampler sampler, Position position) {
            this.index = index;
            this.seq = seq;
            this.sampler = sampler;
            this.position = position;
        }

        /** Tokens that may still be generated, the next one included: the token limit or the room in the kv cache. */
        int tokensLeft(int maxNewTokens) {
            return Math.min(maxNewTokens - tokens.size(), seq.capacity() - seq.length() + 1);
        }
    }

    /** What every batch of one call shares. */
    private record Run(Transformer model, Tokenizer tok, ChatTemplate template, int maxNewTokens, int limit,
                       Set<Integer> stopIds, JsonConstraint constraint, Supplier<Sampler> samplers) {}

    public static Result replies(Transformer model, Tokenizer tok, ChatTemplate template, List<List<Message>> histories,
                                 GenerationOptions o) {
        return replies(model, tok, template, histories, o, fraction -> {});
    }

    /** @param progress receives the fraction of conversations finished after each batch */
    public static Result replies(Transformer model, Tokenizer tok, ChatTemplate template, List<List<Message>> histories,
                                 GenerationOptions o, DoubleConsumer progress) {
        return replies(model, tok, template, histories, o.maxNewTokens(), o.batchSize(), o.constraint(), o::sampler,
                progress);
    }

    /** One reply (a batch of one). */
    public static Reply reply(Transformer model, Tokenizer tok, ChatTemplate template, List<Message> history,
                              GenerationOptions o) {
        return replies(model, tok, template, List.of(history), o).replies().get(0);
    }

    /** The general form: {@code samplers} gives one fresh sampler per sequence; {@code constraint} may be null. */
    static Result replies(Transformer model, Tokenizer tok, ChatTemplate template, List<List<Message>> histories,
                          int maxNewTokens, int batchSize, JsonConstraint constraint, Supplier<Sampler> samplers,
                          DoubleConsumer progress) {
        Set<Integer> stopIds = new HashSet<>(model.config().eosTokenIds());
        for (String s : template.stopStrings()) {
            int id = tok.singleTokenId(s);
            if (id >= 0) stopIds.add(id);
        }
        int limit = model.config().maxPositionEmbeddings();
        if (model.config().slidingWindow() > 0) limit = Math.min(limit, model.config().slidingWindow());
        List<int[]> prompts = new ArrayList<>();
        int promptTokens = 0;
        for (List<Message> h : histories) {
            int[] p = leftTruncated(tok.encodePrompt(template.generationPrompt(h)), Math.max(1, limit - maxNewTokens));
            prompts.add(p);
            promptTokens += p.length;
        }
        Run run = new Run(model, tok, template, maxNewTokens, limit, stopIds, constraint, samplers);
        Reply[] replies = new Reply[histories.size()];
        int generated = 0;
        long t0 = System.nanoTime();
        for (int b = 0; b < prompts.size(); b += batchSize) {
            int end = Math.min(prompts.size(), b + batchSize);
            generated += generateBatch(run, prompts, b, end, replies);
            progress.accept((double) end / prompts.size());
        }
        return new Result(List.of(replies), promptTokens, generated, System.nanoTime() - t0);
    }

    /** Generates replies[from..to) and returns how many tokens that took. */
    private static int generateBatch(Run run, List<int[]> prompts, int from, int to, Reply[] replies) {
        Transformer model = run.model();
        JsonConstraint constraint = run.constraint();
        List<Live> live = new ArrayList<>();
        List<Transformer.Sequence> all = new ArrayList<>();
        int generated = 0;
        try {
            List<int[]> feed = new ArrayList<>();
            for (int i = from; i < to; i++) {
                int[] p = prompts.get(i);
                Transformer.Sequence seq = model.newSequence(Math.min(p.length + run.maxNewTokens(), run.limit()));
                all.add(seq);
                live.add(new Live(i, seq, run.samplers().get(), constraint == null ? null : constraint.start()));
                feed.add(p);
            }
            float[][] logits = lastLogits(model, live, feed);
            while (!live.isEmpty()) {
                List<Live> stillLive = new ArrayList<>();
                for (int j = 0; j < live.size(); j++) {
                    Live s = live.get(j);
                    if (constraint != null) constraint.mask(logits[j], s.position, s.tokensLeft(run.maxNewTokens()));
                    s.next = s.sampler.sample(logits[j]);
                    if (constraint != null) s.position = constraint.advance(s.position, s.next);
                    s.tokens.add(s.next);
                    generated++;
                    Reply done = finished(s, run);
                    if (done == null) stillLive.add(s);
                    else replies[s.index] = done;
                }
                live = stillLive;
                if (live.isEmpty()) break;
                logits = lastLogits(model, live, live.stream().map(s -> new int[] {s.next}).toList());
            }
        } finally {
            for (Transformer.Sequence s : all) s.close();
        }
        return generated;
    }

    /** The reply when the sequence is done after its latest token, else null. */
    private static Reply finished(Live s, Run run) {
        int n = s.tokens.size();
        // the next step would append this token to the kv cache: it needs room there
        boolean atLimit = n >= run.maxNewTokens() || s.seq.length() >= s.seq.capacity();
        if (s.position != null) {
            if (run.constraint().isComplete(s.position)) return new Reply(decode(run.tok(), s.tokens), n, Finish.END_OF_TURN);
            return atLimit ? new Reply(decode(run.tok(), s.tokens), n, Finish.MAX_TOKENS) : null;
        }
        List<String> stops = run.template().stopStrings();
        if (run.stopIds().contains(s.next)) {
            return new Reply(cutAtStop(decode(run.tok(), s.tokens.subList(0, n - 1)), stops), n, Finish.END_OF_TURN);
        }
        String text = decode(run.tok(), s.tokens);
        String cut = cutAtStop(text, stops);
        if (cut.length() < text.length()) return new Reply(cut, n, Finish.END_OF_TURN);
        return atLimit ? new Reply(text, n, Finish.MAX_TOKENS) : null;
    }

    /** Appends {@code feed.get(j)} to live sequence j and returns the logits after each sequence's last token. */
    private static float[][] lastLogits(Transformer model, List<Live> live, List<int[]> feed) {
        return model.nextLogits(live.stream().map(s -> s.seq).toList(), feed);
    }

    private static String decode(Tokenizer tok, List<Integer> tokens) {
        return tok.decode(tokens.stream().mapToInt(Integer::intValue).toArray());
    }

    /** The last {@code keep} tokens: long conversations lose their beginning, as in scoring. */
    private static int[] leftTruncated(int[] tokens, int keep) {
        return tokens.length <= keep ? tokens : Arrays.copyOfRange(tokens, tokens.length - keep, tokens.length);
    }

    static String cutAtStop(String text, List<String> stopStrings) {
        int cut = text.length();
        for (String s : stopStrings) {
            int i = text.indexOf(s);
            if (i >= 0) cut = Math.min(cut, i);
        }
        return text.substring(0, cut);
    }
}
