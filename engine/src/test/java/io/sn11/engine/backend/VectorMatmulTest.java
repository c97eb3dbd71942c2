package io.sn11.engine.backend;

import io.sn11.engine.backend.Backend.Buffer;
import io.sn11.engine.backend.Backend.Projection;
import io.sn11.engine.backend.Backend.WeightHandle;
import io.sn11.engine.Transformer;
import io.sn11.engine.safetensors.DType;
import io.sn11.engine.safetensors.Tensor;
import io.sn11.engine.tiny.TinyModels;
import io.sn11.engine.tiny.TinyModels.Arch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link VectorBackend}'s matmul against {@link ScalarBackend}'s, every dtype, on sizes that are not multiples of the
 * vector length, the 4 x 4 register block, the 16-row weight block or the 512-column chunk (fixed seed). Tolerance:
 * {@code |vector - scalar| <= 1e-4 * (1 + sum |x * w|)} per output: both sum in F32, in different orders.
 */
class VectorMatmulTest {
    static final int[] ROWS = {1, 2, 3, 5, 17, 64};
    static final int[] INS = {1, 15, 100, 257, 1000};
    static final int[] OUTS = {1, 7, 65};

    final Random rnd = new Random(4321);
    final VectorBackend vector = new VectorBackend(3);
    final ScalarBackend scalar = new ScalarBackend(3);

    @AfterEach void close() {
        vector.close();
        scalar.close();
    }

    float[] rand(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rnd.nextGaussian();
        return a;
    }

    static float[] matmul(Backend be, float[] x, int rows, Tensor w, Tensor bias) {
        int out = (int) w.dim(0);
        try (Buffer xb = be.upload(x); Buffer ob = be.allocate(rows * out);
             WeightHandle wh = be.upload(w); WeightHandle bh = bias == null ? null : be.upload(bias)) {
            be.matmul(xb, rows, wh, bh, ob);
            return be.download(ob);
        }
    }

    @Test
    void agreesWithTheScalarReference() {
        for (DType dt : DType.values()) {
            for (int in : INS) {
                for (int out : OUTS) {
                    Tensor w = BackendKernelContract.tensor("w", dt, rand(out * in), out, in);
                    Tensor b = BackendKernelContract.tensor("b", dt, rand(out), out);
                    float[] wv = w.toFloatArray();
                    for (int rows : ROWS) {
                        float[] x = rand(rows * in);
                        for (Tensor bias : new Tensor[] {null, b}) {
                            float[] want = matmul(scalar, x, rows, w, bias), got = matmul(vector, x, rows, w, bias);
                            String what = dt + " rows=" + rows + " in=" + in + " out=" + out + " bias=" + (bias != null);
                            for (int r = 0; r < rows; r++) {
                                for (int o = 0; o < out; o++) {
                                    double magnitude = 0;
                                    for (int i = 0; i < in; i++) magnitude += Math.abs((double) x[r * in + i] * wv[o * in + i]);
                                    int at = r * out + o;
                                    assertTrue(Math.abs(got[at] - want[at]) <= 1e-4 * (1 + magnitude),
                                            what + " [" + r + "][" + o + "]: " + got[at] + " vs scalar " + want[at]);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * A row's outputs do not depend on how many rows came with it, so decode (the BF16 gemv, 1-3 rows) and prefill (the
     * tiles) agree bit for bit, as in the scalar reference; nor on the number of threads.
     */
    @Test
    void rowResultsDoNotDependOnTheBatchOrTheThreads() {
        int rows = 17;
        for (DType dt : DType.values()) {
            for (int in : new int[] {100, 1000, 1024}) {
                int out = 65;
                Tensor w = BackendKernelContract.tensor("w", dt, rand(out * in), out, in);
                Tensor b = BackendKernelContract.tensor("b", dt, rand(out), out);
                float[] x = rand(rows * in);
                float[] all = matmul(vector, x, rows, w, b);
                for (int n = 1; n <= 3; n++) {
                    for (int first = 0; first + n <= rows; first += 7) {
                        float[] part = new float[n * in];
                        System.arraycopy(x, first * in, part, 0, n * in);
                        float[] got = matmul(vector, part, n, w, b);
                        for (int i = 0; i < n * out; i++) {
                            assertEquals(all[first * out + i], got[i], 0f, dt + " in=" + in + " rows " + first + "+" + n);
                        }
                    }
                }
                try (VectorBackend one = new VectorBackend(1)) {
                    assertArrayEquals(all, matmul(one, x, rows, w, b), 0f, dt + " in=" + in + " on one thread");
                }
            }
        }
    }

    /** q/k/v in one call (three weights, their own biases and sizes) equal three matmuls, bit for bit. */
    @Test
    void fusedProjectionsEqualSeparateMatmuls() {
        int in = 257;
        int[] outs = {65, 16, 7};
        for (DType dt : DType.values()) {
            for (int rows : new int[] {1, 3, 5, 17}) {
                float[] x = rand(rows * in);
                List<WeightHandle> handles = new ArrayList<>();
                List<Buffer> buffers = new ArrayList<>();
                try (Buffer xb = vector.upload(x)) {
                    List<Projection> fused = new ArrayList<>();
                    List<float[]> separate = new ArrayList<>();
                    for (int p = 0; p < outs.length; p++) {
                        Tensor w = BackendKernelContract.tensor("w" + p, dt, rand(outs[p] * in), outs[p], in);
                        Tensor b = p == 1 ? null : BackendKernelContract.tensor("b" + p, dt, rand(outs[p]), outs[p]);
                        WeightHandle wh = vector.upload(w), bh = b == null ? null : vector.upload(b);
                        Buffer ob = vector.allocate(rows * outs[p]);
                        handles.add(wh);
                        buffers.add(ob);
                        fused.add(new Projection(wh, bh, ob));
                        separate.add(matmul(vector, x, rows, w, b));
                    }
                    vector.matmul(xb, rows, fused);
                    for (int p = 0; p < outs.length; p++) {
                        assertArrayEquals(separate.get(p), vector.download(buffers.get(p)), 0f, dt + " rows=" + rows + " projection " + p);
                    }
                } finally {
                    handles.forEach(WeightHandle::close);
                    buffers.forEach(Buffer::close);
                }
            }
        }
    }

    /** The forward pass, q/k/v and gate/up fused, against the scalar backend's (tolerance as in TransformerTest). */
    @Test
    void forwardPassAgreesWithTheScalarBackend(@TempDir Path dir) throws IOException {
        for (Arch arch : Arch.values()) {
            for (DType dt : DType.values()) {
                Path m = dir.resolve(arch + "-" + dt);
                TinyModels.write(m, arch, dt, 8);
                try (Transformer s = Transformer.load(m, scalar); Transformer v = Transformer.load(m, vector)) {
                    int[] tokens = new int[9];
                    for (int i = 0; i < tokens.length; i++) tokens[i] = rnd.nextInt(s.config().vocabSize());
                    float[][] want = s.logits(tokens), got = v.logits(tokens);
                    for (int p = 0; p < tokens.length; p++) {
                        for (int i = 0; i < want[p].length; i++) {
                            assertEquals(want[p][i], got[p][i], 2e-4 + 1e-3 * Math.abs(want[p][i]), arch + " " + dt + " pos " + p);
                        }
                    }
                }
            }
        }
    }

    @Test
    void refusesMismatchedShapes() {
        Tensor w = BackendKernelContract.tensor("w", DType.BF16, rand(4 * 8), 4, 8);
        Tensor other = BackendKernelContract.tensor("o", DType.BF16, rand(4 * 9), 4, 9);
        try (Buffer x = vector.upload(rand(2 * 8)); Buffer out = vector.allocate(2 * 4); Buffer small = vector.allocate(7);
             WeightHandle wh = vector.upload(w); WeightHandle oh = vector.upload(other)) {
            assertThrows(IllegalArgumentException.class, () -> vector.matmul(x, 2, wh, null, small));
            assertThrows(IllegalArgumentException.class, () -> vector.matmul(x, 2, List.of(
                    new Projection(wh, null, out), new Projection(oh, null, out))));
        }
    }
}
