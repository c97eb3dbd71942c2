package io.sn11.engine.backend.cuda;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The row-major to column-major mapping, checked by running cuBLAS's definition of a matmul on plain arrays: a GEMM
 * that reads A, B and writes D only through the layouts, with the bias epilogue, must give the row-major
 * {@code X . W^T + bias} the engine means.
 */
class MatmulLayoutTest {

    /** cuBLAS's column-major D = op(A) op(B) (+ bias per row of D), op(B) = B; element (i, j) of M at i + j * ld. */
    static float[] columnMajorGemm(MatmulLayout l, float[] a, float[] b, float[] bias) {
        float[] d = new float[Math.toIntExact(l.d().ld() * l.n())];
        for (int i = 0; i < l.m(); i++) {
            for (int j = 0; j < l.n(); j++) {
                double s = bias == null ? 0 : bias[i];
                for (int p = 0; p < l.k(); p++) {
                    float opA = l.transposeA() ? a[(int) (p + i * l.a().ld())] : a[(int) (i + p * l.a().ld())];
                    s += (double) opA * b[(int) (p + j * l.b().ld())];
                }
                d[(int) (i + j * l.d().ld())] = (float) s;
            }
        }
        return d;
    }

    @Test
    void cublasSemanticsOverTheLayoutsGiveTheRowMajorProduct() {
        Random random = new Random(11);
        int[][] shapes = {{1, 1, 1}, {1, 5, 3}, {3, 5, 2}, {4, 1, 7}, {9, 17, 13}, {2, 64, 3}};
        for (int[] shape : shapes) {
            int rows = shape[0], in = shape[1], out = shape[2];
            float[] x = new float[rows * in], w = new float[out * in], bias = new float[out];
            for (int i = 0; i < x.length; i++) x[i] = random.nextInt(9) - 4;  // small integers: exact in float
            for (int i = 0; i < w.length; i++) w[i] = random.nextInt(9) - 4;
            for (int i = 0; i < bias.length; i++) bias[i] = random.nextInt(9) - 4;
            MatmulLayout l = MatmulLayout.rowMajor(rows, in, out);
            float[] y = columnMajorGemm(l, w, x, bias);
            for (int r = 0; r < rows; r++) {
                for (int o = 0; o < out; o++) {
                    float want = bias[o];
                    for (int i = 0; i < in; i++) want += x[r * in + i] * w[o * in + i];
                    assertEquals(want, y[r * out + o], 0f, "shape " + rows + "x" + in + "x" + out + " at " + r + "," + o);
                }
            }
        }
    }

    @Test
    void theLayoutsDescribeTheBuffersExactly() {
        MatmulLayout l = MatmulLayout.rowMajor(3, 5, 2);
        assertEquals(2, l.m());  // outputs
        assertEquals(3, l.n());  // rows
        assertEquals(5, l.k());  // inputs
        assertTrue(l.transposeA());
        assertEquals(new MatmulLayout.Matrix(5, 2, 5), l.a());
        assertEquals(new MatmulLayout.Matrix(5, 3, 5), l.b());
        assertEquals(new MatmulLayout.Matrix(2, 3, 2), l.d());
        // each layout spans exactly its buffer: ld x cols elements
        assertEquals(5 * 2, l.a().ld() * l.a().cols());
        assertEquals(3 * 5, l.b().ld() * l.b().cols());
        assertEquals(3 * 2, l.d().ld() * l.d().cols());
        assertThrows(IllegalArgumentException.class, () -> MatmulLayout.rowMajor(0, 5, 2));
    }
}
