package io.sn11.engine.backend.cuda;

import io.sn11.engine.safetensors.DType;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Every kernel the cuda backend launches: the PTX module it lives in ({@code src/main/cuda/MODULE.cu}, packaged as
 * {@code io/sn11/engine/cuda/MODULE.ptx}) and its {@code extern "C"} entry name. A module may also come compiled for
 * one device ({@code io/sn11/engine/cuda/sm_90a/MODULE.cubin}: the GPU bundle's, see bench/gpu/bundle.sh), which the
 * backend loads instead of the PTX, so that nothing is JIT-compiled on that device.
 */
public enum CudaKernel {
    EMBEDDING_F32("embedding", "embedding_f32"),
    EMBEDDING_F16("embedding", "embedding_f16"),
    EMBEDDING_BF16("embedding", "embedding_bf16"),
    RMSNORM("rmsnorm", "rmsnorm"),
    ROPE("rope", "rope"),
    GEMV_F32("matmul", "gemv_f32"),
    GEMV_F16("matmul", "gemv_f16"),
    GEMV_BF16("matmul", "gemv_bf16"),
    MATMUL_F32("matmul", "matmul_f32"),
    MATMUL_TC_F16("matmul", "matmul_tc_f16"),
    MATMUL_TC_BF16("matmul", "matmul_tc_bf16"),
    ROUND_TO_BF16("matmul", "f32_to_bf16"),
    ATTENTION_PREFILL("attention_prefill", "attention_prefill"),
    ATTENTION_DECODE_PARTIAL("attention_decode", "attention_decode_partial"),
    ATTENTION_DECODE_COMBINE("attention_decode", "attention_decode_combine"),
    SILU_MUL("silu_mul", "silu_mul"),
    ADD("add", "add"),
    GATHER_ROWS("gather_rows", "gather_rows"),
    TOPK_STATS("topk_stats", "topk_stats");

    public static final String PTX_FOLDER = "io/sn11/engine/cuda/";

    private final String module;
    private final String entry;

    CudaKernel(String module, String entry) {
        this.module = module;
        this.entry = entry;
    }

    public String module() { return module; }
    public String entry() { return entry; }

    /** Class-path resource of the module's PTX. */
    public String ptxResource() { return PTX_FOLDER + module + ".ptx"; }

    /** The kernels of the given dtype's variant, e.g. {@code byDtype(GEMV_F32, DType.BF16) == GEMV_BF16}. */
    static CudaKernel byDtype(CudaKernel f32Variant, DType dtype) {
        String prefix = f32Variant.name().substring(0, f32Variant.name().length() - "F32".length());
        return valueOf(prefix + dtype.name().toUpperCase(Locale.ROOT));
    }

    /** Module names in declaration order, each once. */
    public static List<String> modules() {
        return Arrays.stream(values()).map(CudaKernel::module).distinct().toList();
    }

    /** Modules whose PTX is not on the class path (all of them in a build without nvcc). */
    public static List<String> missingPtx() {
        List<String> missing = new ArrayList<>();
        for (String m : modules()) {
            if (CudaKernel.class.getClassLoader().getResource(PTX_FOLDER + m + ".ptx") == null) missing.add(m + ".ptx");
        }
        return missing;
    }

    /** A module's loadable image and what it is: a cubin for the device, or the PTX text the driver JIT-compiles. */
    record Image(byte[] bytes, String kind) {}

    /** Class-path resource of a module's cubin for devices of compute capability major.minor (arch-specific: sm_90a). */
    static String cubinResource(String module, int major, int minor) {
        return PTX_FOLDER + "sm_" + major + minor + "a/" + module + ".cubin";
    }

    /** The module's cubin for the device when packaged, else its PTX (NUL-terminated, as the driver reads it). */
    static Image image(String module, int major, int minor) throws IOException {
        String cubin = cubinResource(module, major, minor);
        try (InputStream in = CudaKernel.class.getClassLoader().getResourceAsStream(cubin)) {
            if (in != null) return new Image(in.readAllBytes(), "sm_" + major + minor + "a cubin");
        }
        return new Image((readPtx(module) + "\0").getBytes(java.nio.charset.StandardCharsets.US_ASCII), "PTX, JIT-compiled");
    }

    /** The PTX text of a module. */
    public static String readPtx(String module) throws IOException {
        try (InputStream in = CudaKernel.class.getClassLoader().getResourceAsStream(PTX_FOLDER + module + ".ptx")) {
            if (in == null) throw new IOException("PTX not packaged in this build: " + PTX_FOLDER + module + ".ptx");
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
        }
    }
}
