package io.sn11.engine;

import io.sn11.engine.backend.Backend;
import io.sn11.engine.backend.Backend.TopKStats;
import io.sn11.engine.backend.ScalarBackend;
import io.sn11.engine.backend.VectorBackend;
import io.sn11.engine.safetensors.DType;
import io.sn11.engine.tiny.TinyModels;
import io.sn11.engine.tiny.TinyModels.Arch;
import io.sn11.engine.tiny.TinyModels.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The whole forward pass on the SIMD backend against the scalar reference, on random-weight models of each
 * architecture and weight dtype. Both keep activations in F32 and decode weights exactly, so they differ only in
 * summation order: max |Δlogit| <= 1e-3 for every dtype, for a 40-token prefill and for a 4-token prefill followed by
 * one-token decode steps. Scoring statistics: flags equal, probability and entropy within 1e-5.
 */
class VectorTransformerParityTest {
    static final double LOGIT_TOLERANCE = 1e-3, STATS_TOLERANCE = 1e-5;
    /** Every dimension off the vector length: hidden 72, head dim 18, MLP width 100. */
    static final Shape ODD = new Shape(72, 100, 2, 4, 2, 0, true, 8.0, 64, 512, 0.3);

    @TempDir Path dir;

    /** Logits of a full prefill, then of a 4-token prefill followed by one-token decode steps. */
    static float[][][] prefillAndDecode(Path model, Backend be, int[] tokens) throws IOException {
        try (Transformer t = Transformer.load(model, be)) {
            float[][] stepwise = new float[tokens.length][];
            try (Transformer.Sequence s = t.newSequence(tokens.length)) {
                System.arraycopy(t.logits(s, java.util.Arrays.copyOf(tokens, 4)), 0, stepwise, 0, 4);
                for (int p = 4; p < tokens.length; p++) stepwise[p] = t.logits(s, new int[] {tokens[p]})[0];
            }
            return new float[][][] {t.logits(tokens), stepwise};
        }
    }

    static void assertLogitsClose(float[][] want, float[][] got, String what) {
        for (int p = 0; p < want.length; p++) {
            for (int i = 0; i < want[p].length; i++) {
                if (!(Math.abs(want[p][i] - got[p][i]) <= LOGIT_TOLERANCE)) {
                    fail(what + " position " + p + " logit " + i + ": scalar " + want[p][i] + " vector " + got[p][i]);
                }
            }
        }
    }

    void assertSameLogits(Path model, String what) throws IOException {
        int[] tokens = TransformerTest.randomTokens(7, 40, 300);
        float[][][] want, got;
        try (ScalarBackend be = new ScalarBackend(2)) { want = prefillAndDecode(model, be, tokens); }
        try (VectorBackend be = new VectorBackend(2)) { got = prefillAndDecode(model, be, tokens); }
        assertLogitsClose(want[0], got[0], what + " prefill");
        assertLogitsClose(want[0], got[1], what + " decode");
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("io.sn11.engine.TransformerTest#archAndDtype")
    void tinyModelsPrefillAndDecode(Arch arch, DType dtype) throws IOException {
        Path m = dir.resolve(arch + "-" + dtype);
        TinyModels.write(m, arch, dtype, 42);
        assertSameLogits(m, arch + " " + dtype);
    }

    @Test
    void dimensionsOffTheVectorLength() throws IOException {
        for (Arch arch : Arch.values()) {
            Path m = dir.resolve("odd-" + arch);
            TinyModels.write(m, arch, DType.BF16, 11, ODD);
            assertSameLogits(m, "odd " + arch);
        }
    }

    @Test
    void scoreTargetsAgree() throws IOException {
        for (Arch arch : Arch.values()) {
            Path m = dir.resolve("score-" + arch);
            TinyModels.write(m, arch, arch == Arch.QWEN2 ? DType.F32 : DType.BF16, 5);
            List<int[]> samples = List.of(TransformerTest.randomTokens(1, 40, 300), TransformerTest.randomTokens(2, 25, 300));
            int[] starts = {10, 1};
            List<TopKStats> want, got;
            try (ScalarBackend be = new ScalarBackend(2); Transformer t = Transformer.load(m, be)) {
                want = t.scoreTargets(samples, starts, 10, 16);
            }
            try (VectorBackend be = new VectorBackend(2); Transformer t = Transformer.load(m, be)) {
                got = t.scoreTargets(samples, starts, 10, 16);
            }
            for (int s = 0; s < samples.size(); s++) {
                String what = arch + " sample " + s;
                assertArrayEquals(want.get(s).targetInTopK(), got.get(s).targetInTopK(), what);
                assertArrayEquals(want.get(s).targetProb(), got.get(s).targetProb(), (float) STATS_TOLERANCE, what);
                assertArrayEquals(want.get(s).entropy(), got.get(s).entropy(), (float) STATS_TOLERANCE, what);
            }
        }
    }
}
