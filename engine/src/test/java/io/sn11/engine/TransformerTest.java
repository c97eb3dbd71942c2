package io.sn11.engine;

import io.sn11.engine.backend.Backend.TopKStats;
import io.sn11.engine.backend.ScalarBackend;
import io.sn11.engine.safetensors.DType;
import io.sn11.engine.tiny.TinyModels;
import io.sn11.engine.tiny.TinyModels.Arch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The engine's forward pass against {@link NaiveReferenceModel}. Tolerance: |a - b| <= 2e-4 + 1e-3 * |b| per logit
 * (F32 accumulation in the engine vs double in the reference; weights are decoded identically, exactly).
 */
class TransformerTest {
    static final double ABS = 2e-4, REL = 1e-3;
    @TempDir Path dir;

    static Stream<Arguments> archAndDtype() {
        List<Arguments> out = new ArrayList<>();
        for (Arch a : Arch.values()) for (DType d : DType.values()) out.add(Arguments.of(a, d));
        return out.stream();
    }

    static int[] randomTokens(long seed, int n, int vocab) {
        Random r = new Random(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = r.nextInt(vocab);
        return t;
    }

    static void assertClose(double[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            double tol = ABS + REL * Math.abs(expected[i]);
            if (Math.abs(expected[i] - actual[i]) > tol) {
                fail(what + "[" + i + "]: expected " + expected[i] + " got " + actual[i] + " (tol " + tol + ")");
            }
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("archAndDtype")
    void prefillMatchesNaiveReference(Arch arch, DType dtype) throws IOException {
        Path m = dir.resolve(arch + "-" + dtype);
        TinyModels.write(m, arch, dtype, 42);
        NaiveReferenceModel ref = new NaiveReferenceModel(m);
        int[] tokens = randomTokens(7, 13, ref.vocab());
        double[][] expected = ref.logits(tokens);
        try (ScalarBackend be = new ScalarBackend(2); Transformer t = Transformer.load(m, be)) {
            float[][] got = t.logits(tokens);
            for (int p = 0; p < tokens.length; p++) assertClose(expected[p], got[p], arch + " " + dtype + " pos " + p);
            // the logits are not degenerate: positions differ and span a real range
            assertNotEquals(got[0][0], got[1][0]);
        }
    }

    @Test
    void decodeStepByStepEqualsPrefill() throws IOException {
        for (Arch arch : Arch.values()) {
            Path m = dir.resolve("d-" + arch);
            TinyModels.write(m, arch, arch == Arch.QWEN2 ? DType.F16 : DType.BF16, 3);
            try (ScalarBackend be = new ScalarBackend(2); Transformer t = Transformer.load(m, be)) {
                int[] tokens = randomTokens(11, 10, t.config().vocabSize());
                float[][] prefill = t.logits(tokens);
                try (Transformer.Sequence s = t.newSequence(tokens.length)) {
                    // a 4-token prefill, then one token at a time
                    float[][] first = t.logits(s, Arrays.copyOf(tokens, 4));
                    // the CPU backend sums every output in the same order whatever the number of rows: bit-exact
                    for (int p = 0; p < 4; p++) assertArrayEquals(prefill[p], first[p], 0f);
                    for (int p = 4; p < tokens.length; p++) {
                        float[] step = t.logits(s, new int[] {tokens[p]})[0];
                        assertArrayEquals(prefill[p], step, 0f, arch + " decode position " + p);
                    }
                    assertEquals(tokens.length, s.length());
                }
            }
        }
    }

    @Test
    void batchOfTwoEqualsEachAlone() throws IOException {
        Path m = dir.resolve("batch");
        TinyModels.write(m, Arch.QWEN2, DType.F32, 5);
        try (ScalarBackend be = new ScalarBackend(2); Transformer t = Transformer.load(m, be)) {
            int v = t.config().vocabSize();
            int[] a = randomTokens(1, 9, v), b = randomTokens(2, 5, v);
            int[] startA = {3}, startB = {1};
            List<TopKStats> together = t.scoreTargets(List.of(a, b), new int[] {startA[0], startB[0]}, 10, 3);
            TopKStats aloneA = t.scoreTargets(List.of(a), startA, 10, 64).get(0);
            TopKStats aloneB = t.scoreTargets(List.of(b), startB, 10, 64).get(0);
            assertArrayEquals(aloneA.targetProb(), together.get(0).targetProb(), 1e-6f);
            assertArrayEquals(aloneA.entropy(), together.get(0).entropy(), 1e-6f);
            assertArrayEquals(aloneB.targetProb(), together.get(1).targetProb(), 1e-6f);
            assertArrayEquals(aloneB.entropy(), together.get(1).entropy(), 1e-6f);
            assertEquals(a.length - 3, together.get(0).entropy().length);
        }
    }

    @Test
    void scoreTargetsAgreesWithFullLogits() throws IOException {
        Path m = dir.resolve("score");
        TinyModels.write(m, Arch.LLAMA, DType.F16, 9);
        NaiveReferenceModel ref = new NaiveReferenceModel(m);
        try (ScalarBackend be = new ScalarBackend(1); Transformer t = Transformer.load(m, be)) {
            int[] tokens = randomTokens(4, 12, t.config().vocabSize());
            // make one target the reference's argmax so it is surely in the top 10
            double[][] logits = ref.logits(tokens);
            tokens[6] = argmax(logits[5]);
            logits = ref.logits(tokens);
            TopKStats s = t.scoreTargets(List.of(tokens), new int[] {4}, 10, 64).get(0);
            for (int i = 0; i < tokens.length - 4; i++) {
                double[] row = logits[3 + i];
                Integer[] order = new Integer[row.length];
                for (int j = 0; j < row.length; j++) order[j] = j;
                Arrays.sort(order, (x, y) -> Double.compare(row[y], row[x]));
                double z = 0, h = 0, pt = 0;
                boolean in = false;
                for (int j = 0; j < 10; j++) z += Math.exp(row[order[j]] - row[order[0]]);
                for (int j = 0; j < 10; j++) {
                    double p = Math.exp(row[order[j]] - row[order[0]]) / z;
                    h -= p * Math.log(p);
                    if (order[j] == tokens[4 + i]) { pt = p; in = true; }
                }
                assertEquals(in, s.targetInTopK()[i], "position " + i);
                assertEquals(pt, s.targetProb()[i], 1e-4);
                assertEquals(h, s.entropy()[i], 1e-4);
            }
            assertTrue(s.targetInTopK()[2], "the argmax target is in the top 10");
        }
    }

    @Test
    void threadCountDoesNotChangeResults() throws IOException {
        Path m = dir.resolve("threads");
        TinyModels.write(m, Arch.MISTRAL, DType.BF16, 1);
        int[] tokens = randomTokens(3, 8, 300);
        float[][] one, four;
        try (ScalarBackend be = new ScalarBackend(1); Transformer t = Transformer.load(m, be)) { one = t.logits(tokens); }
        try (ScalarBackend be = new ScalarBackend(4); Transformer t = Transformer.load(m, be)) { four = t.logits(tokens); }
        for (int p = 0; p < tokens.length; p++) assertArrayEquals(one[p], four[p], 0f);
    }

    @Test
    void shardedCheckpointGivesTheSameLogits() throws IOException {
        Path single = dir.resolve("single"), sharded = dir.resolve("sharded");
        TinyModels.write(single, Arch.MISTRAL, DType.BF16, 6);
        TinyModels.write(sharded, Arch.MISTRAL, DType.BF16, 6);
        // split the tensors over two shards with an index, as Hugging Face does for large models
        Path file = sharded.resolve("model.safetensors");
        var w1 = new io.sn11.engine.safetensors.SafetensorsWriter();
        var w2 = new io.sn11.engine.safetensors.SafetensorsWriter();
        StringBuilder index = new StringBuilder("{\"metadata\":{},\"weight_map\":{");
        try (var st = io.sn11.engine.safetensors.SafetensorsFile.open(file)) {
            int i = 0;
            for (String name : st.entries().keySet()) {
                var t = st.tensor(name);
                float[] v = t.toFloatArray();
                String shard = i++ % 2 == 0 ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
                (shard.startsWith("model-00001") ? w1 : w2).add(name, t.dtype(), t.shape(), v);
                index.append(i > 1 ? "," : "").append('"').append(name).append("\":\"").append(shard).append('"');
            }
        }
        w1.write(sharded.resolve("model-00001-of-00002.safetensors"));
        w2.write(sharded.resolve("model-00002-of-00002.safetensors"));
        java.nio.file.Files.writeString(sharded.resolve("model.safetensors.index.json"), index.append("}}").toString());
        java.nio.file.Files.delete(file);
        int[] tokens = randomTokens(8, 6, 300);
        try (ScalarBackend be = new ScalarBackend(2); Transformer a = Transformer.load(single, be); Transformer b = Transformer.load(sharded, be)) {
            float[][] la = a.logits(tokens), lb = b.logits(tokens);
            for (int p = 0; p < tokens.length; p++) assertArrayEquals(la[p], lb[p], 0f);
        }
    }

    static int argmax(double[] a) {
        int b = 0;
        for (int i = 1; i < a.length; i++) if (a[i] > a[b]) b = i;
        return b;
    }
}
