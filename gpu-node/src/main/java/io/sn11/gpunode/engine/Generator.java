package io.sn11.gpunode.engine;

import io.sn11.gpunode.engine.tokenizer.ChatTemplate;
import io.sn11.gpunode.engine.tokenizer.Message;
import io.sn11.gpunode.engine.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Autoregressive generation: prefill the prompt, then decode one token at a time until a stop token or the limit. */
public final class Generator {
    private Generator() {}

    /** Generated token ids (the stop token excluded). */
    public static int[] generate(Transformer model, int[] prompt, int maxNewTokens, Sampler sampler, Set<Integer> stopTokens) {
        List<Integer> out = new ArrayList<>();
        int capacity = Math.min(prompt.length + maxNewTokens, model.config().maxPositionEmbeddings());
        if (prompt.length >= capacity) throw new IllegalArgumentException("prompt of " + prompt.length + " tokens leaves no room");
        try (Transformer.Sequence seq = model.newSequence(capacity)) {
            float[][] logits = model.logits(seq, prompt);
            float[] last = logits[logits.length - 1];
            for (int i = 0; i < maxNewTokens; i++) {
                int next = sampler.sample(last);
                if (stopTokens.contains(next)) break;
                out.add(next);
                if (i + 1 == maxNewTokens || seq.length() >= seq.capacity()) break;
                last = model.logits(seq, new int[] {next})[0];
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * Writes the next assistant turn of a conversation (which ends with a user turn): formats it with the template,
     * generates until an end-of-turn token, one of the model's EOS ids or {@code maxNewTokens}, and cuts the text at
     * the first stop string.
     */
    public static String reply(Transformer model, Tokenizer tok, ChatTemplate template, List<Message> history,
                               int maxNewTokens, Sampler sampler) {
        int[] prompt = tok.encodePrompt(template.generationPrompt(history));
        Set<Integer> stops = new HashSet<>(model.config().eosTokenIds());
        for (String s : template.stopStrings()) {
            int id = tok.singleTokenId(s);
            if (id >= 0) stops.add(id);
        }
        String text = tok.decode(generate(model, prompt, maxNewTokens, sampler, stops));
        return cutAtStop(text, template.stopStrings());
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
