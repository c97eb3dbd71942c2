package io.sn11.engine.backend.cuda;

import io.sn11.engine.safetensors.DType;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import static io.sn11.engine.backend.cuda.CublasLt.CUBLAS_COMPUTE_32F;
import static io.sn11.engine.backend.cuda.CublasLt.CUBLAS_OP_N;
import static io.sn11.engine.backend.cuda.CublasLt.CUBLAS_OP_T;
import static io.sn11.engine.backend.cuda.CublasLt.CUDA_R_16BF;
import static io.sn11.engine.backend.cuda.CublasLt.CUDA_R_32F;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * Row-major {@code y[rows x out] = x[rows x in] . w^T (+ bias)} through cuBLASLt on one device: bf16 x and w, f32
 * accumulation ({@code CUBLAS_COMPUTE_32F}), f32 or bf16 y, the bias added in cuBLASLt's epilogue (bias elements of
 * y's type, as cuBLASLt requires). One handle in the context current at construction (the backend's primary
 * context), one workspace, and per shape the descriptors and the algorithm cuBLASLt's heuristic ranks first, kept
 * for the shape's next call: a forward pass repeats a handful of shapes in every layer. Everything runs on the
 * default stream, after the kernels launched before it. Used by one thread at a time, like the backend.
 */
final class CublasLtMatmul implements AutoCloseable {
    /** NVIDIA's advice for Hopper: 32 MiB lets the heuristic choose its split-K and stream-K kernels. */
    static final long WORKSPACE_BYTES = 32L << 20;
    /** Shapes kept (least recently used go): distinct prefill lengths each make a shape. */
    static final int MAX_PLANS = 256;

    /** What a plan is for. */
    record Shape(int rows, int in, int out, boolean bias, DType output) {}

    /** A shape's descriptors and algorithm; without an algorithm cuBLASLt cannot run the shape. */
    final class Plan implements AutoCloseable {
        private final Arena memory = Arena.ofShared();
        private MemorySegment desc, a, b, d;
        private Optional<MemorySegment> algorithm = Optional.empty();

        boolean runnable() { return algorithm.isPresent(); }

        @Override
        public void close() {
            if (desc != null) lt.matmulDescDestroy(desc);
            for (MemorySegment layout : new MemorySegment[] {a, b, d}) if (layout != null) lt.matrixLayoutDestroy(layout);
            memory.close();
        }
    }

    private final CublasLt lt;
    private final Arena memory = Arena.ofShared();
    private final MemorySegment handle, one, zero;
    private final CUdeviceptr workspace = new CUdeviceptr();
    private final Map<Shape, Plan> plans = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Shape, Plan> eldest) {
            if (size() <= MAX_PLANS) return false;
            eldest.getValue().close();
            return true;
        }
    };

    /** Opens cuBLASLt in the current context. */
    CublasLtMatmul(CublasLt lt) {
        this.lt = lt;
        one = memory.allocateFrom(JAVA_FLOAT, 1f);
        zero = memory.allocateFrom(JAVA_FLOAT, 0f);
        handle = lt.create(memory);
        try {
            JCudaDriver.cuMemAlloc(workspace, WORKSPACE_BYTES);
        } catch (RuntimeException e) {
            lt.destroy(handle);
            memory.close();
            throw e;
        }
    }

    /**
     * The plan of a shape, made on its first call; {@code bias} is the bias vector's device address (0: none), whose
     * alignment the heuristic takes into account.
     */
    Plan plan(int rows, int in, int out, long bias, DType output) {
        Shape shape = new Shape(rows, in, out, bias != 0, output);
        Plan plan = plans.get(shape);
        if (plan == null) {
            plan = newPlan(shape, bias);
            plans.put(shape, plan);
        }
        return plan;
    }

    private Plan newPlan(Shape s, long bias) {
        int outputType = switch (s.output()) {
            case F32 -> CUDA_R_32F;
            case BF16 -> CUDA_R_16BF;
            case F16 -> throw new IllegalArgumentException("cuBLASLt output f16 is not supported here");
        };
        Plan p = new Plan();
        try {
            MatmulLayout l = MatmulLayout.rowMajor(s.rows(), s.in(), s.out());
            p.desc = lt.matmulDescCreate(p.memory, CUBLAS_COMPUTE_32F, CUDA_R_32F);
            lt.matmulDescSetInt(p.memory, p.desc, CublasLt.MATMUL_DESC_TRANSA, l.transposeA() ? CUBLAS_OP_T : CUBLAS_OP_N);
            lt.matmulDescSetInt(p.memory, p.desc, CublasLt.MATMUL_DESC_TRANSB, CUBLAS_OP_N);
            lt.matmulDescSetInt(p.memory, p.desc, CublasLt.MATMUL_DESC_EPILOGUE,
                    s.bias() ? CublasLt.EPILOGUE_BIAS : CublasLt.EPILOGUE_DEFAULT);
            if (s.bias()) lt.matmulDescSetPointer(p.memory, p.desc, CublasLt.MATMUL_DESC_BIAS_POINTER, bias);
            p.a = lt.matrixLayoutCreate(p.memory, CUDA_R_16BF, l.a());
            p.b = lt.matrixLayoutCreate(p.memory, CUDA_R_16BF, l.b());
            p.d = lt.matrixLayoutCreate(p.memory, outputType, l.d());
            MemorySegment preference = lt.preferenceCreate(p.memory);
            try {
                lt.preferenceSetLong(p.memory, preference, CublasLt.PREF_MAX_WORKSPACE_BYTES, WORKSPACE_BYTES);
                p.algorithm = lt.bestAlgorithm(p.memory, handle, p.desc, p.a, p.b, p.d, preference);
            } finally {
                lt.preferenceDestroy(preference);
            }
            return p;
        } catch (RuntimeException e) {
            p.close();
            throw e;
        }
    }

    /** Runs a runnable plan: addresses of x and w (bf16), the bias (0 when the plan has none) and y. */
    void run(Plan plan, long x, long w, long bias, long y) {
        if (!plan.runnable()) throw new IllegalArgumentException("cuBLASLt has no algorithm for this shape");
        try (Arena call = Arena.ofConfined()) {
            if (bias != 0) lt.matmulDescSetPointer(call, plan.desc, CublasLt.MATMUL_DESC_BIAS_POINTER, bias);
        }
        // A is w (op T), B is x: see MatmulLayout
        lt.matmul(handle, plan.desc, one, w, plan.a, x, plan.b, zero, y, plan.d, plan.algorithm.get(),
                DeviceAddress.of(workspace), WORKSPACE_BYTES);
    }

    @Override
    public void close() {
        for (Plan p : plans.values()) p.close();
        plans.clear();
        lt.destroy(handle);
        JCudaDriver.cuMemFree(workspace);
        memory.close();
    }
}
