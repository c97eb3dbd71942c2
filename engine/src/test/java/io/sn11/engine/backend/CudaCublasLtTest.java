package io.sn11.engine.backend;

import io.sn11.engine.backend.Backend.Buffer;
import io.sn11.engine.backend.Backend.WeightHandle;
import io.sn11.engine.backend.cuda.CublasLt;
import io.sn11.engine.backend.cuda.CudaBackend;
import io.sn11.engine.backend.cuda.CudaProbe;
import io.sn11.engine.safetensors.DType;
import io.sn11.engine.safetensors.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Optional;
import java.util.Random;

import static io.sn11.engine.backend.CudaBackendKernelTest.TC_ABS;
import static io.sn11.engine.backend.CudaBackendKernelTest.TC_REL;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The cuda backend's many-row bf16 matmuls on cuBLASLt against {@link ScalarBackend} given the same bf16-rounded
 * activations (cuBLASLt multiplies bf16 by bf16; only the f32 accumulation order differs: 1e-4 + 1e-4 |expected|),
 * and against the same backend with cuBLASLt refused (the WMMA kernels), on sizes that are not multiples of the tiles
 * and with and without bias. Skipped with the probe's reason without a usable device, and with the library's reason
 * where cuBLASLt is not found.
 */
class CudaCublasLtTest {
    /** rows (all above the gemv limit of 8), inputs, outputs; in = 37 leaves rows unaligned for cuBLASLt's bf16 kernels. */
    static final int[][] SHAPES = {{9, 64, 32}, {200, 96, 150}, {13, 1024, 512}, {300, 1000, 130}, {17, 37, 5}};

    @Test
    void bf16MatmulsOnCublasLtMatchTheScalarReferenceAndTheWmmaKernels() {
        CudaProbe probe = CudaProbe.system();
        assumeTrue(probe.available(), probe.reason());
        CublasLt.Loaded library = CublasLt.system();
        assumeTrue(library.library().isPresent(), library.reason());
        Random rnd = new Random(99);
        try (Backend lt = CudaBackend.open(probe, library);
             Backend wmma = CudaBackend.open(probe, new CublasLt.Loaded(Optional.empty(), "refused by the test"));
             ScalarBackend reference = new ScalarBackend(2)) {
            assertTrue(lt.settings().get("matmul").toString().startsWith("cuBLASLt "), lt.settings().toString());
            assertTrue(wmma.settings().get("matmul").toString().startsWith("WMMA "), wmma.settings().toString());
            for (int[] shape : SHAPES) {
                int rows = shape[0], in = shape[1], out = shape[2];
                for (boolean withBias : new boolean[] {false, true}) {
                    float[] x = gaussian(rnd, rows * in), rounded = new float[x.length];
                    for (int i = 0; i < x.length; i++) rounded[i] = CudaBackendKernelTest.roundTo(DType.BF16, x[i]);
                    Tensor w = BackendKernelContract.tensor("w", DType.BF16, gaussian(rnd, out * in), out, in);
                    Tensor b = withBias ? BackendKernelContract.tensor("b", DType.BF16, gaussian(rnd, out), out) : null;
                    float[] want = matmul(reference, rounded, rows, w, b, out);
                    double[] expected = new double[want.length];
                    for (int i = 0; i < want.length; i++) expected[i] = want[i];
                    String what = rows + "x" + in + "x" + out + (withBias ? " with bias" : "");
                    CudaBackendKernelTest.assertWithin(expected, matmul(lt, x, rows, w, b, out), TC_ABS, TC_REL, "cuBLASLt " + what);
                    CudaBackendKernelTest.assertWithin(expected, matmul(wmma, x, rows, w, b, out), TC_ABS, TC_REL, "WMMA " + what);
                }
            }
        }
    }

    static float[] gaussian(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rnd.nextGaussian();
        return a;
    }

    static float[] matmul(Backend be, float[] x, int rows, Tensor w, Tensor bias, int out) {
        try (Buffer xb = be.upload(x); Buffer ob = be.allocate(rows * out); WeightHandle wh = be.upload(w);
             WeightHandle bh = bias == null ? null : be.upload(bias)) {
            be.matmul(xb, rows, wh, bh, ob);
            return be.download(ob);
        }
    }
}
