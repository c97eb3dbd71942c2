package io.sn11.engine.backend.cuda;

import io.sn11.engine.safetensors.DType;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link CublasLtMatmul} on its own, on a device: bf16 output (the cuda backend uses f32), which must be the exact
 * product rounded once to bf16 (within one bf16 step, since cuBLASLt rounds its f32 sum, not the exact one), and the
 * plan cache. Skipped with the probe's reason without a usable device, with the library's reason without cuBLASLt.
 */
class CublasLtMatmulTest {

    @Test
    void bf16OutputIsTheProductRoundedToBf16AndPlansAreKeptPerShape() {
        CudaProbe probe = CudaProbe.system();
        assumeTrue(probe.available(), probe.reason());
        CublasLt.Loaded library = CublasLt.system();
        assumeTrue(library.library().isPresent(), library.reason());
        int rows = 64, in = 128, out = 96;
        Random rnd = new Random(5);
        short[] x = bf16(rnd, rows * in), w = bf16(rnd, out * in);
        // the backend makes the device's primary context current on this thread, where cuBLASLt then runs
        try (CudaBackend backend = CudaBackend.open(probe, library);
             CublasLtMatmul lt = new CublasLtMatmul(library.library().get())) {
            CUdeviceptr xd = upload(x), wd = upload(w), yd = new CUdeviceptr();
            JCudaDriver.cuMemAlloc(yd, 2L * rows * out);
            try {
                CublasLtMatmul.Plan plan = lt.plan(rows, in, out, 0, DType.BF16);
                assertTrue(plan.runnable(), "cuBLASLt has an algorithm for bf16 x bf16 -> bf16");
                assertSame(plan, lt.plan(rows, in, out, 0, DType.BF16), "one plan per shape");
                assertNotSame(plan, lt.plan(rows, in, out, 0, DType.F32));
                lt.run(plan, DeviceAddress.of(xd), DeviceAddress.of(wd), 0, DeviceAddress.of(yd));
                short[] y = new short[rows * out];
                JCudaDriver.cuMemcpyDtoH(Pointer.to(y), yd, 2L * y.length);
                for (int r = 0; r < rows; r++) {
                    for (int o = 0; o < out; o++) {
                        double exact = 0;
                        for (int i = 0; i < in; i++) exact += (double) DType.bf16ToFloat(x[r * in + i]) * DType.bf16ToFloat(w[o * in + i]);
                        float got = DType.bf16ToFloat(y[r * out + o]);
                        double step = Math.max(Math.ulp((float) exact) * 65536, 1e-30);  // one bf16 step near the value
                        assertTrue(Math.abs(got - exact) <= step, r + "," + o + ": exact " + exact + " got " + got);
                    }
                }
            } finally {
                for (CUdeviceptr p : new CUdeviceptr[] {xd, wd, yd}) JCudaDriver.cuMemFree(p);
            }
        }
    }

    static short[] bf16(Random rnd, int n) {
        short[] a = new short[n];
        for (int i = 0; i < n; i++) a[i] = DType.floatToBf16((float) rnd.nextGaussian());
        return a;
    }

    static CUdeviceptr upload(short[] values) {
        CUdeviceptr p = new CUdeviceptr();
        JCudaDriver.cuMemAlloc(p, 2L * values.length);
        JCudaDriver.cuMemcpyHtoD(p, Pointer.to(values), 2L * values.length);
        return p;
    }
}
