package io.sn11.engine.backend;

import io.sn11.engine.backend.Backend.Buffer;
import io.sn11.engine.backend.Backend.WeightHandle;
import io.sn11.engine.safetensors.DType;
import io.sn11.engine.safetensors.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

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

    @Test
    void refusesMismatchedShapes() {
        Tensor w = BackendKernelContract.tensor("w", DType.BF16, rand(4 * 8), 4, 8);
        try (Buffer x = vector.upload(rand(2 * 8)); Buffer small = vector.allocate(7);
             WeightHandle wh = vector.upload(w)) {
            assertThrows(IllegalArgumentException.class, () -> vector.matmul(x, 2, wh, null, small));
        }
    }
}
