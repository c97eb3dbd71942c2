package io.sn11.engine;

import io.sn11.engine.backend.Backend.TopKStats;
import io.sn11.engine.backend.ScalarBackend;
import io.sn11.engine.backend.cuda.CudaBackend;
import io.sn11.engine.backend.cuda.CudaProbe;
import io.sn11.engine.backend.cuda.CudaTestDevice;
import io.sn11.engine.safetensors.DType;
import io.sn11.engine.tiny.TinyModels;
import io.sn11.engine.tiny.TinyModels.Arch;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The whole forward pass on the cuda backend against the CPU reference, on random-weight models. Logits are compared
 * per row relative to the row's largest magnitude: |cuda - cpu| <= tol * max|cpu row|, with tol by weight dtype for the
 * prefill (13 rows: tensor cores, activations rounded to the weight dtype) f32 1e-4, f16 5e-3, bf16 3e-2, and 1e-4 for
 * every dtype on the decode path (one row: f32 activations, as exact as the CPU). Top-k statistics on f32 models:
 * flags equal, probability and entropy within 1e-4. Skipped, with the probe's reason, where CUDA cannot run (failed
 * instead where SN11_REQUIRE_CUDA is set).
 */
class CudaTransformerParityTest {
    @TempDir Path dir;

    @BeforeEach
    void requireDevice() { CudaTestDevice.probeOrSkip(); }

    static double prefillTolerance(DType d) {
        return switch (d) {
            case F32 -> 1e-4;
            case F16 -> 5e-3;
            case BF16 -> 3e-2;
        };
    }

    static final double DECODE_TOLERANCE = 1e-4;

    static void assertRowsClose(float[][] want, float[][] got, double tol, String what) {
        assertEquals(want.length, got.length, what);
        for (int p = 0; p < want.length; p++) {
            double scale = 0;
            for (float v : want[p]) scale = Math.max(scale, Math.abs(v));
            for (int i = 0; i < want[p].length; i++) {
                double d = Math.abs(want[p][i] - got[p][i]);
                if (d > tol * scale) fail(what + " row " + p + " logit " + i + ": cpu " + want[p][i] + " cuda " + got[p][i]
                        + " (tolerance " + tol + " x " + scale + ")");
            }
        }
    }

    /** Logits of a prefill of all tokens, then of a 4-token prefill followed by one-token decode steps. */
    static float[][][] prefillAndDecode(Transformer t, int[] tokens) {
        float[][] prefill = t.logits(tokens);
        float[][] stepwise = new float[tokens.length][];
        try (Transformer.Sequence s = t.newSequence(tokens.length)) {
            float[][] first = t.logits(s, java.util.Arrays.copyOf(tokens, 4));
            System.arraycopy(first, 0, stepwise, 0, 4);
            for (int p = 4; p < tokens.length; p++) stepwise[p] = t.logits(s, new int[] {tokens[p]})[0];
        }
        return new float[][][] {prefill, stepwise};
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("io.sn11.engine.TransformerTest#archAndDtype")
    void tinyModelsPrefillAndDecode(Arch arch, DType dtype) throws IOException {
        Path m = dir.resolve(arch + "-" + dtype);
        TinyModels.write(m, arch, dtype, 42);
        int[] tokens = TransformerTest.randomTokens(7, 13, 300);
        float[][][] want, got;
        try (ScalarBackend cpu = new ScalarBackend(2); Transformer t = Transformer.load(m, cpu)) { want = prefillAndDecode(t, tokens); }
        try (CudaBackend cuda = CudaBackend.open(CudaProbe.system()); Transformer t = Transformer.load(m, cuda)) {
            got = prefillAndDecode(t, tokens);
        }
        assertRowsClose(want[0], got[0], prefillTolerance(dtype), arch + " " + dtype + " prefill");
        // the first 4 rows of the stepwise run are a 4-row prefill: gemv, f32 activations
        assertRowsClose(want[1], got[1], DECODE_TOLERANCE, arch + " " + dtype + " decode");
    }

    /**
     * Head dim 128 (the prefill's shared-memory opt-in), an MLP width (200) and vocabulary off the tiles, and the
     * prompt fed as three prefills (13, 16 and 11 rows: the later ones at non-zero starts): each row within the prefill
     * tolerance of the CPU's single pass.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void headDim128AndPrefillsAtNonZeroStarts(DType dtype) throws IOException {
        Path m = dir.resolve("hd128-" + dtype);
        TinyModels.write(m, Arch.LLAMA, dtype, 9, TinyModels.Shape.TINY_HD128);
        int[] tokens = TransformerTest.randomTokens(11, 40, 300);
        float[][] want, whole, chunked = new float[tokens.length][];
        try (ScalarBackend cpu = new ScalarBackend(2); Transformer t = Transformer.load(m, cpu)) { want = t.logits(tokens); }
        try (CudaBackend cuda = CudaBackend.open(CudaProbe.system()); Transformer t = Transformer.load(m, cuda);
             Transformer.Sequence s = t.newSequence(tokens.length)) {
            whole = t.logits(tokens);
            for (int[] chunk : new int[][] {{0, 13}, {13, 29}, {29, 40}}) {
                float[][] rows = t.logits(s, java.util.Arrays.copyOfRange(tokens, chunk[0], chunk[1]));
                System.arraycopy(rows, 0, chunked, chunk[0], rows.length);
            }
        }
        assertRowsClose(want, whole, prefillTolerance(dtype), "hd128 " + dtype + " prefill");
        assertRowsClose(want, chunked, prefillTolerance(dtype), "hd128 " + dtype + " prefills at non-zero starts");
    }

    @Test
    void scoreTargetsOnTheDeviceMatchesTheCpu() throws IOException {
        Path m = dir.resolve("score");
        TinyModels.write(m, Arch.QWEN2, DType.F32, 5);
        List<int[]> samples = List.of(TransformerTest.randomTokens(1, 40, 300), TransformerTest.randomTokens(2, 25, 300));
        int[] starts = {10, 1};
        List<TopKStats> want, got;
        try (ScalarBackend cpu = new ScalarBackend(2); Transformer t = Transformer.load(m, cpu)) {
            want = t.scoreTargets(samples, starts, 10, 16);
        }
        try (CudaBackend cuda = CudaBackend.open(CudaProbe.system()); Transformer t = Transformer.load(m, cuda)) {
            got = t.scoreTargets(samples, starts, 10, 16);
        }
        for (int s = 0; s < samples.size(); s++) {
            assertArrayEquals(want.get(s).targetInTopK(), got.get(s).targetInTopK(), "sample " + s);
            assertArrayEquals(want.get(s).targetProb(), got.get(s).targetProb(), 1e-4f, "sample " + s);
            assertArrayEquals(want.get(s).entropy(), got.get(s).entropy(), 1e-4f, "sample " + s);
        }
    }

    /**
     * Llama-3.2-1B shape in bf16 (2.5 GB written to a temp folder): 16-token prefill logits within the bf16 tolerance,
     * and the scoring statistics close on average (a truncated top-10 can swap a near-tied member): mean |entropy
     * difference| <= 0.05 nats, and the target flags agree on at least 13 of the 15 positions.
     */
    @Test
    void oneBillionShapeBf16() throws IOException {
        Path m = dir.resolve("1b");
        TinyModels.write(m, Arch.LLAMA, DType.BF16, 42, TinyModels.Shape.ONE_B);
        int[] tokens = TransformerTest.randomTokens(3, 16, 128256);
        float[][] want, got;
        TopKStats wantStats, gotStats;
        try (ScalarBackend cpu = new ScalarBackend();
             Transformer t = Transformer.load(m, cpu)) {
            want = t.logits(tokens);
            wantStats = t.scoreTargets(List.of(tokens), new int[] {1}, 10, 64).get(0);
        }
        try (CudaBackend cuda = CudaBackend.open(CudaProbe.system()); Transformer t = Transformer.load(m, cuda)) {
            got = t.logits(tokens);
            gotStats = t.scoreTargets(List.of(tokens), new int[] {1}, 10, 64).get(0);
        }
        assertRowsClose(want, got, prefillTolerance(DType.BF16), "1b bf16 prefill");
        double entropyDiff = 0;
        int agree = 0, n = wantStats.entropy().length;
        for (int i = 0; i < n; i++) {
            entropyDiff += Math.abs(wantStats.entropy()[i] - gotStats.entropy()[i]) / n;
            if (wantStats.targetInTopK()[i] == gotStats.targetInTopK()[i]) agree++;
        }
        assertTrue(entropyDiff <= 0.05, "mean entropy difference " + entropyDiff);
        assertTrue(agree >= n - 2, agree + " of " + n + " target flags agree");
    }
}
