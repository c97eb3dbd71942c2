package io.sn11.engine.commands;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sn11.engine.EngineVersion;
import io.sn11.engine.Sampler;
import io.sn11.engine.Transformer;
import io.sn11.engine.backend.Backend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

@Command(name = "engine", mixinStandardHelpOptions = true,
        description = {"Measure the forward pass of a model folder: prefill tokens/s (one teacher-forced pass over a random "
                + "prompt, logits of the last position), scoring tokens/s (the evaluation's teacher-forced scoring of a batch "
                + "of prompts: every position's top-10 statistics, on the backend) and decode tokens/s (greedy, one token "
                + "per pass with the kv cache).",
                "Make a model to bench with: make-tiny-model --out DIR [--shape 1b]."})
public class BenchEngineCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin BackendOptions backendOptions;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Model folder.")
    Path model;

    @Option(names = "--prompt-tokens", defaultValue = "128", paramLabel = "N", description = "Prefill length. Default: ${DEFAULT-VALUE}.")
    int promptTokens;

    @Option(names = "--decode-tokens", defaultValue = "32", paramLabel = "N", description = "Decode steps. Default: ${DEFAULT-VALUE}.")
    int decodeTokens;

    @Option(names = "--score-batch", defaultValue = "1", paramLabel = "N",
            description = "Prompts scored together in the scoring measure. Default: ${DEFAULT-VALUE}.")
    int scoreBatch;

    @Option(names = "--repeats", defaultValue = "3", paramLabel = "N",
            description = "Timed repetitions after one warm-up; the best is reported. Default: ${DEFAULT-VALUE}.")
    int repeats;

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Map<String, Object> r = new LinkedHashMap<>();
        try (Backend be = backendOptions.create()) {
            long l0 = System.nanoTime();
            try (Transformer t = Transformer.load(model, be)) {
                double loadS = (System.nanoTime() - l0) / 1e9;
                int vocab = t.config().vocabSize();
                int[] prompt = new SplittableRandom(1).ints(promptTokens, 0, Math.min(vocab, 256)).toArray();
                List<int[]> scored = new ArrayList<>();
                int[] targetStarts = new int[scoreBatch];
                for (int i = 0; i < scoreBatch; i++) {
                    scored.add(new SplittableRandom(2 + i).ints(promptTokens, 0, Math.min(vocab, 256)).toArray());
                    targetStarts[i] = 1;
                }
                double bestPrefill = Double.MAX_VALUE, bestDecode = Double.MAX_VALUE, bestScore = Double.MAX_VALUE;
                for (int rep = 0; rep <= Math.max(1, repeats); rep++) {
                    try (Transformer.Sequence s = t.newSequence(promptTokens + decodeTokens)) {
                        long p0 = System.nanoTime();
                        try (Backend.Buffer h = t.forwardHidden(List.of(s), List.of(prompt));
                             Backend.Buffer l = t.logitsOfRows(h, new int[] {promptTokens - 1})) {
                            float[] last = be.download(l);
                            double prefillS = (System.nanoTime() - p0) / 1e9;
                            long d0 = System.nanoTime();
                            int next = Sampler.argmax(last);
                            for (int i = 0; i < decodeTokens; i++) next = Sampler.argmax(t.logits(s, new int[] {next})[0]);
                            double decodeS = (System.nanoTime() - d0) / 1e9;
                            if (rep > 0) {
                                bestPrefill = Math.min(bestPrefill, prefillS);
                                bestDecode = Math.min(bestDecode, decodeS);
                            }
                        }
                    }
                    long s0 = System.nanoTime();
                    t.scoreTargets(scored, targetStarts, 10, promptTokens);  // returns per-position statistics: synchronous
                    if (rep > 0) bestScore = Math.min(bestScore, (System.nanoTime() - s0) / 1e9);
                }
                r.put("model", model.toString());
                r.put("architecture", t.config().architecture());
                r.put("parameters", t.config().parameterCount());
                r.put("backend", be.name());
                r.put("backend_settings", be.settings());
                r.put("engine_version", EngineVersion.VERSION);
                r.put("jvm", System.getProperty("java.vm.name") + " " + Runtime.version());
                r.put("load_seconds", loadS);
                r.put("prompt_tokens", promptTokens);
                r.put("decode_tokens", decodeTokens);
                r.put("prefill_seconds", bestPrefill);
                r.put("prefill_tokens_per_second", promptTokens / bestPrefill);
                r.put("score_batch", scoreBatch);
                r.put("score_seconds", bestScore);
                r.put("score_tokens_per_second", (double) scoreBatch * promptTokens / bestScore);
                r.put("weight_bytes", t.modelFileBytes());
                r.put("decode_seconds", bestDecode);
                r.put("decode_tokens_per_second", decodeTokens / bestDecode);
            }
        }
        var out = spec.commandLine().getOut();
        if (json) {
            out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(r));
        } else {
            out.printf("%s (%s, %,d parameters) on %s %s: prefill %d tokens %.1f tokens/s, scoring %d x %d tokens %.1f tokens/s, "
                    + "decode %d tokens %.2f tokens/s%n", r.get("model"), r.get("architecture"), (Long) r.get("parameters"),
                    r.get("backend"), r.get("backend_settings"), promptTokens, r.get("prefill_tokens_per_second"), scoreBatch,
                    promptTokens, r.get("score_tokens_per_second"), decodeTokens, r.get("decode_tokens_per_second"));
        }
        out.flush();
        return 0;
    }
}
