package io.sn11.engine.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.sn11.engine.Transformer;
import io.sn11.engine.backend.Backend;
import io.sn11.engine.backend.Backends;
import io.sn11.engine.data.Dataset;
import io.sn11.engine.tokenizer.ChatTemplate;
import io.sn11.engine.tokenizer.Tokenizer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * Our side of the Hugging Face parity (bench/gpu/hf_parity.py), run from the GPU bundle: for each model folder and
 * backend, the logits of a random token sequence fed as one prefill and as prefills at non-zero starts (little-endian
 * float32 files, rows x vocab), and the eval score and creativity of the evaluation's samples, whose tokens are
 * written too so that the reference scores exactly the same ones. One JSON file per model: {@code OUT/NAME.json}.
 */
@Command(name = "parity-dump", mixinStandardHelpOptions = true)
public final class ParityDump implements Callable<Integer> {
    @Option(names = "--out", required = true) Path out;
    @Option(names = "--dataset", required = true) Path dataset;
    @Option(names = "--samples", defaultValue = "8") int samples;
    @Option(names = "--tokens", defaultValue = "40", description = "Length of the logits' token sequence.") int length;
    @Option(names = "--chunks", defaultValue = "13,29", split = ",",
            description = "Where the later prefills start (each above the gemv's 8 rows: the tensor-core path).") int[] chunkStarts;
    @Option(names = "--logits-backends", defaultValue = "cuda,cpu", split = ",") List<String> logitsBackends;
    @Option(names = "--eval-backends", defaultValue = "cuda,cpu", split = ",") List<String> evalBackends;
    @Parameters(paramLabel = "MODEL_DIR") List<Path> models;

    public static void main(String[] args) {
        System.exit(new CommandLine(new ParityDump()).execute(args));
    }

    @Override
    public Integer call() throws IOException {
        Files.createDirectories(out);
        Dataset data = Dataset.read(dataset);
        Evaluation.Options options = new Evaluation.Options(samples, "0", ChatTemplate.CHATML, 2048, 4);
        for (Path model : models) dump(model, data, options);
        return 0;
    }

    private void dump(Path model, Dataset data, Evaluation.Options options) throws IOException {
        String name = model.getFileName().toString();
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("model", name);
        result.put("dir", model.toAbsolutePath().toString());
        int[] tokens = null;
        Map<String, Object> backends = new LinkedHashMap<>();
        LinkedHashSet<String> all = new LinkedHashSet<>(logitsBackends);
        all.addAll(evalBackends);
        for (String backend : all) {
            Map<String, Object> r = new LinkedHashMap<>();
            long t0 = System.nanoTime();
            try (Backend be = Backends.create(backend, 0); Transformer t = Transformer.load(model, be)) {
                r.put("settings", be.settings());
                if (tokens == null) {
                    tokens = new SplittableRandom(7).ints(length, 0, t.config().vocabSize()).toArray();
                    result.put("vocab_size", t.config().vocabSize());
                    result.put("tokens", tokens);
                    result.put("chunk_starts", chunkStarts);
                    try (Tokenizer tok = Tokenizer.load(model)) {
                        List<Map<String, Object>> prepared = new ArrayList<>();
                        for (Evaluation.Prepared p : Evaluation.prepare(t.config(), tok, data, options)) {
                            prepared.add(Map.of("id", p.id(), "tokens", p.tokens(), "target_start", p.targetStart()));
                        }
                        result.put("samples", prepared);
                    }
                }
                if (logitsBackends.contains(backend)) {
                    r.put("logits", write(name + "-" + backend + "-whole.f32", t.logits(tokens)));
                    r.put("chunked_logits", write(name + "-" + backend + "-chunked.f32", chunked(t, tokens)));
                }
                if (evalBackends.contains(backend)) {
                    try (Tokenizer tok = Tokenizer.load(model)) {
                        EvalResult e = Evaluation.run(name, t, tok, data, options);
                        r.put("eval_score", e.evalScore());
                        r.put("creativity", e.creativity());
                        r.put("scored_tokens", e.scoredTokens());
                    }
                }
            }
            r.put("seconds", (System.nanoTime() - t0) / 1e9);
            backends.put(backend, r);
            System.err.printf("parity-dump: %s on %s in %.1f s%n", name, backend, (double) r.get("seconds"));
        }
        result.put("backends", backends);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.resolve(name + ".json").toFile(), result);
    }

    /** The logits of every row, the tokens fed as prefills starting at 0 and at each chunk start. */
    private float[][] chunked(Transformer t, int[] tokens) {
        float[][] rows = new float[tokens.length][];
        try (Transformer.Sequence s = t.newSequence(tokens.length)) {
            int from = 0;
            for (int i = 0; i <= chunkStarts.length; i++) {
                int to = i < chunkStarts.length ? chunkStarts[i] : tokens.length;
                float[][] part = t.logits(s, Arrays.copyOfRange(tokens, from, to));
                System.arraycopy(part, 0, rows, from, part.length);
                from = to;
            }
        }
        return rows;
    }

    /** Rows of float32, little-endian, one after the other; returns the file's name. */
    private String write(String file, float[][] rows) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4 * rows.length * rows[0].length).order(ByteOrder.LITTLE_ENDIAN);
        for (float[] row : rows) for (float v : row) b.putFloat(v);
        Files.write(out.resolve(file), b.array());
        return file;
    }
}
