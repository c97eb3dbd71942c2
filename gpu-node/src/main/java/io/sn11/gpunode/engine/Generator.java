package io.sn11.gpunode.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Autoregressive generation: prefill the prompt, then decode one token at a time until a stop token or the limit. */
public final class Generator {
    private Generator() {}

    public static int[] generate(Transformer model, int[] prompt, int maxNewTokens, Sampler sampler, Set<Integer> stopTokens) {
        List<Integer> out = new ArrayList<>();
        try (Transformer.Sequence seq = model.newSequence(prompt.length + maxNewTokens)) {
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
}
