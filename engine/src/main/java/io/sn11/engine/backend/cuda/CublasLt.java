package io.sn11.engine.backend.cuda;

import io.sn11.engine.backend.cuda.CublasLtLocator.Candidate;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The cuBLASLt functions the engine calls, bound through the Foreign Function &amp; Memory API from the machine's
 * {@code libcublasLt.so.13} (found by {@link CublasLtLocator}): no Java dependency, and only these functions. Each
 * wrapper checks the returned {@code cublasStatus_t} and throws {@link IllegalStateException} with the status name.
 * The library loads without a GPU; everything past the descriptors needs one (see {@link CublasLtMatmul}).
 */
public final class CublasLt {
    // Values of cublasLt.h, cublas_api.h and library_types.h, unchanged from CUDA 11 to 13.
    static final int CUDA_R_32F = 0, CUDA_R_16BF = 14;
    static final int CUBLAS_COMPUTE_32F = 68;
    static final int CUBLAS_OP_N = 0, CUBLAS_OP_T = 1;
    static final int MATMUL_DESC_TRANSA = 3, MATMUL_DESC_TRANSB = 4, MATMUL_DESC_EPILOGUE = 7, MATMUL_DESC_BIAS_POINTER = 8;
    static final int EPILOGUE_DEFAULT = 1, EPILOGUE_BIAS = 4;
    static final int PREF_MAX_WORKSPACE_BYTES = 1;
    static final int CUBLAS_STATUS_NOT_SUPPORTED = 15;
    /** cublasLtMatmulHeuristicResult_t: the algorithm (uint64_t[8]), its workspace size, its status, waves, reserved. */
    static final StructLayout HEURISTIC_RESULT = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(8, JAVA_LONG).withName("algo"), JAVA_LONG.withName("workspaceSize"),
            JAVA_INT.withName("state"), JAVA_FLOAT.withName("wavesCount"), MemoryLayout.sequenceLayout(4, JAVA_INT).withName("reserved"));
    static final long ALGO_BYTES = 64;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final FunctionDescriptor STATUS_OF_POINTER = FunctionDescriptor.of(JAVA_INT, ADDRESS);
    private static final FunctionDescriptor SET_ATTRIBUTE = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG);

    /** Where the library came from, for reports. */
    private final String location;
    private final MethodHandle getVersion, getStatusName, create, destroy, matmulDescCreate, matmulDescDestroy,
            matmulDescSetAttribute, matrixLayoutCreate, matrixLayoutDestroy, preferenceCreate, preferenceDestroy,
            preferenceSetAttribute, algoGetHeuristic, matmul;

    private CublasLt(SymbolLookup lib, String location) {
        this.location = location;
        getVersion = bind(lib, "cublasLtGetVersion", FunctionDescriptor.of(JAVA_LONG));
        getStatusName = bind(lib, "cublasLtGetStatusName", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        create = bind(lib, "cublasLtCreate", STATUS_OF_POINTER);
        destroy = bind(lib, "cublasLtDestroy", STATUS_OF_POINTER);
        matmulDescCreate = bind(lib, "cublasLtMatmulDescCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        matmulDescDestroy = bind(lib, "cublasLtMatmulDescDestroy", STATUS_OF_POINTER);
        matmulDescSetAttribute = bind(lib, "cublasLtMatmulDescSetAttribute", SET_ATTRIBUTE);
        matrixLayoutCreate = bind(lib, "cublasLtMatrixLayoutCreate",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG));
        matrixLayoutDestroy = bind(lib, "cublasLtMatrixLayoutDestroy", STATUS_OF_POINTER);
        preferenceCreate = bind(lib, "cublasLtMatmulPreferenceCreate", STATUS_OF_POINTER);
        preferenceDestroy = bind(lib, "cublasLtMatmulPreferenceDestroy", STATUS_OF_POINTER);
        preferenceSetAttribute = bind(lib, "cublasLtMatmulPreferenceSetAttribute", SET_ATTRIBUTE);
        algoGetHeuristic = bind(lib, "cublasLtMatmulAlgoGetHeuristic", FunctionDescriptor.of(JAVA_INT,
                ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
        matmul = bind(lib, "cublasLtMatmul", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
                ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS));
    }

    private MethodHandle bind(SymbolLookup lib, String name, FunctionDescriptor signature) {
        MemorySegment symbol = lib.find(name).orElseThrow(
                () -> new IllegalArgumentException("no " + name + ": not a cuBLASLt library"));
        return LINKER.downcallHandle(symbol, signature);
    }

    // ---------------------------------------------------------------- loading

    /** The library, or why there is none. */
    public record Loaded(Optional<CublasLt> library, String reason) {
        static Loaded refused(String reason) { return new Loaded(Optional.empty(), reason); }
    }

    /** This JVM's cuBLASLt, located and bound on first use. */
    public static Loaded system() { return Holder.LOADED; }

    private static final class Holder {
        static final Loaded LOADED = located(System.getenv());
    }

    /** The library as the configuration and the environment say (see {@link CublasLtLocator}), or why there is none. */
    static Loaded located(Map<String, String> env) {
        Optional<String> configured = CublasLtLocator.configured(env);
        if (configured.filter(CublasLtLocator.OFF::equalsIgnoreCase).isPresent()) {
            return Loaded.refused("turned off (" + CublasLtLocator.ENV + " or -D" + CublasLtLocator.PROPERTY + " is "
                    + CublasLtLocator.OFF + ")");
        }
        return load(CublasLtLocator.candidates(configured, env));
    }

    /** Binds the first candidate that loads; else the refusal names every place looked at and why it failed. */
    static Loaded load(List<Candidate> candidates) {
        List<String> tried = new ArrayList<>();
        for (Candidate c : candidates) {
            if (c.file() != null && !Files.exists(c.file())) {
                tried.add(c + ": no such file");
                continue;
            }
            Arena arena = Arena.ofShared();  // never closed once bound: the library stays for the JVM's life
            try {
                SymbolLookup lib = c.file() == null ? SymbolLookup.libraryLookup(CublasLtLocator.LIBRARY, arena)
                        : SymbolLookup.libraryLookup(c.file(), arena);
                return new Loaded(Optional.of(new CublasLt(lib, c.toString())), "");
            } catch (IllegalArgumentException e) {
                arena.close();
                tried.add(c + ": " + e.getMessage());
            }
        }
        return Loaded.refused("cuBLASLt not found: " + String.join("; ", tried));
    }

    // ---------------------------------------------------------------- the functions

    public String location() { return location; }

    /** cublasLtGetVersion, e.g. 130100 for 13.1.0. */
    public long version() {
        try {
            return (long) getVersion.invokeExact();
        } catch (Throwable t) {
            throw rethrown(t);
        }
    }

    /** The version as a release, e.g. 13.1.0. */
    public String release() {
        long v = version();
        return v / 10000 + "." + v / 100 % 100 + "." + v % 100;
    }

    /** A status as cuBLASLt names it, with its number: e.g. {@code CUBLAS_STATUS_NOT_SUPPORTED (15)}. */
    String statusName(int status) {
        try {
            MemorySegment name = (MemorySegment) getStatusName.invokeExact(status);
            return name.reinterpret(128).getString(0) + " (" + status + ")";
        } catch (Throwable t) {
            throw rethrown(t);
        }
    }

    /** A call returning cublasStatus_t. */
    @FunctionalInterface
    private interface Call {
        int invoke() throws Throwable;
    }

    private void check(String function, Call call) {
        int status;
        try {
            status = call.invoke();
        } catch (Throwable t) {
            throw rethrown(t);
        }
        if (status != 0) throw new IllegalStateException(function + " failed: " + statusName(status));
    }

    private static RuntimeException rethrown(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    /** Calls a create function that writes one handle through its first argument, and returns that handle. */
    private MemorySegment created(String function, Arena arena, OutCall call) {
        MemorySegment out = arena.allocate(ADDRESS);
        check(function, () -> call.invoke(out));
        return out.get(ADDRESS, 0);
    }

    @FunctionalInterface
    private interface OutCall {
        int invoke(MemorySegment out) throws Throwable;
    }

    MemorySegment create(Arena arena) { return created("cublasLtCreate", arena, out -> (int) create.invokeExact(out)); }

    void destroy(MemorySegment handle) { check("cublasLtDestroy", () -> (int) destroy.invokeExact(handle)); }

    MemorySegment matmulDescCreate(Arena arena, int computeType, int scaleType) {
        return created("cublasLtMatmulDescCreate", arena, out -> (int) matmulDescCreate.invokeExact(out, computeType, scaleType));
    }

    void matmulDescDestroy(MemorySegment desc) {
        check("cublasLtMatmulDescDestroy", () -> (int) matmulDescDestroy.invokeExact(desc));
    }

    /** Sets an int32/uint32 attribute (transposes, epilogue). */
    void matmulDescSetInt(Arena arena, MemorySegment desc, int attribute, int value) {
        MemorySegment v = arena.allocateFrom(JAVA_INT, value);
        check("cublasLtMatmulDescSetAttribute", () -> (int) matmulDescSetAttribute.invokeExact(desc, attribute, v, 4L));
    }

    /** Sets a pointer attribute (the bias vector's device address). */
    void matmulDescSetPointer(Arena arena, MemorySegment desc, int attribute, long address) {
        MemorySegment v = arena.allocateFrom(JAVA_LONG, address);
        check("cublasLtMatmulDescSetAttribute", () -> (int) matmulDescSetAttribute.invokeExact(desc, attribute, v, 8L));
    }

    MemorySegment matrixLayoutCreate(Arena arena, int type, MatmulLayout.Matrix m) {
        return created("cublasLtMatrixLayoutCreate", arena,
                out -> (int) matrixLayoutCreate.invokeExact(out, type, m.rows(), m.cols(), m.ld()));
    }

    void matrixLayoutDestroy(MemorySegment layout) {
        check("cublasLtMatrixLayoutDestroy", () -> (int) matrixLayoutDestroy.invokeExact(layout));
    }

    MemorySegment preferenceCreate(Arena arena) {
        return created("cublasLtMatmulPreferenceCreate", arena, out -> (int) preferenceCreate.invokeExact(out));
    }

    void preferenceDestroy(MemorySegment pref) {
        check("cublasLtMatmulPreferenceDestroy", () -> (int) preferenceDestroy.invokeExact(pref));
    }

    /** Sets a uint64 preference (the workspace limit). */
    void preferenceSetLong(Arena arena, MemorySegment pref, int attribute, long value) {
        MemorySegment v = arena.allocateFrom(JAVA_LONG, value);
        check("cublasLtMatmulPreferenceSetAttribute", () -> (int) preferenceSetAttribute.invokeExact(pref, attribute, v, 8L));
    }

    /** The best algorithm for the operation as cuBLASLt ranks them, or empty when it has none for these layouts. */
    Optional<MemorySegment> bestAlgorithm(Arena arena, MemorySegment handle, MemorySegment desc, MemorySegment a,
                                          MemorySegment b, MemorySegment d, MemorySegment pref) {
        MemorySegment result = arena.allocate(HEURISTIC_RESULT);
        MemorySegment count = arena.allocate(JAVA_INT);
        int status;
        try {
            // C is D (beta is 0): the same layout serves both
            status = (int) algoGetHeuristic.invokeExact(handle, desc, a, b, d, d, pref, 1, result, count);
        } catch (Throwable t) {
            throw rethrown(t);
        }
        if (status == CUBLAS_STATUS_NOT_SUPPORTED) return Optional.empty();  // no algorithm for this configuration
        if (status != 0) throw new IllegalStateException("cublasLtMatmulAlgoGetHeuristic failed: " + statusName(status));
        boolean found = count.get(JAVA_INT, 0) > 0 && result.get(JAVA_INT, HEURISTIC_RESULT.byteOffset(groupElement("state"))) == 0;
        return found ? Optional.of(result.asSlice(0, ALGO_BYTES)) : Optional.empty();
    }

    /** D = alpha op(A) op(B) + beta C with C = D, on the default stream; addresses are device pointers. */
    void matmul(MemorySegment handle, MemorySegment desc, MemorySegment alpha, long a, MemorySegment aLayout, long b,
                MemorySegment bLayout, MemorySegment beta, long d, MemorySegment dLayout, MemorySegment algorithm,
                long workspace, long workspaceBytes) {
        MemorySegment dPointer = MemorySegment.ofAddress(d);
        check("cublasLtMatmul", () -> (int) matmul.invokeExact(handle, desc, alpha, MemorySegment.ofAddress(a), aLayout,
                MemorySegment.ofAddress(b), bLayout, beta, dPointer, dLayout, dPointer, dLayout, algorithm,
                MemorySegment.ofAddress(workspace), workspaceBytes, MemorySegment.NULL));
    }
}
