package io.sn11.engine.backend.cuda;

import io.sn11.engine.backend.Backends;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The PTX the build compiled (no device needed): every kernel the backend launches is an entry of its module, so a
 * kernel missing from a .cu file, misspelt or name-mangled fails CI. In a build with nvcc (the ptx profile sets
 * sn11.ptx.expected) or where SN11_REQUIRE_CUDA is set (the GPU proof) a missing module is a failure; otherwise, without
 * nvcc, the test is skipped.
 */
class CudaPtxResourcesTest {
    @Test
    void everyKernelIsAnEntryOfItsPackagedModule() throws IOException {
        boolean expected = Boolean.getBoolean("sn11.ptx.expected") || Backends.cudaRequired(System.getenv());
        if (expected) assertEquals(java.util.List.of(), CudaKernel.missingPtx(), "PTX modules missing from the build");
        assumeTrue(CudaKernel.missingPtx().isEmpty(), "PTX not packaged in this build (built without nvcc)");
        for (CudaKernel k : CudaKernel.values()) {
            String ptx = CudaKernel.readPtx(k.module());
            assertTrue(Pattern.compile("\\.visible \\.entry " + Pattern.quote(k.entry()) + "\\(").matcher(ptx).find(),
                    k.ptxResource() + " declares no entry " + k.entry());
            assertTrue(ptx.contains(".target sm_80"), k.ptxResource() + " targets compute_80 (JIT-compiled on sm_80 and later)");
        }
    }

    @Test
    void everyCudaSourceIsAModule() throws IOException {
        try (var sources = java.nio.file.Files.list(java.nio.file.Path.of("src/main/cuda"))) {
            var cu = sources.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".cu"))
                    .map(n -> n.substring(0, n.length() - 3)).sorted().toList();
            assertEquals(cu, CudaKernel.modules().stream().sorted().toList(), "src/main/cuda/*.cu vs CudaKernel modules");
        }
    }

    @Test
    void aModuleLoadsFromTheDevicesCubinWhenPackagedElseFromItsPtx() throws IOException {
        // test resources hold a stand-in cubin of the add module for an imaginary compute capability 99.0
        CudaKernel.Image cubin = CudaKernel.image("add", 99, 0);
        assertEquals("sm_990a cubin", cubin.kind());
        assertEquals("stand-in cubin\n", new String(cubin.bytes(), java.nio.charset.StandardCharsets.US_ASCII));

        assumeTrue(CudaKernel.missingPtx().isEmpty(), "PTX not packaged in this build (built without nvcc)");
        CudaKernel.Image ptx = CudaKernel.image("add", 8, 6);  // no sm_86a cubin anywhere: the PTX
        assertEquals("PTX, JIT-compiled", ptx.kind());
        assertEquals(CudaKernel.readPtx("add") + "\0", new String(ptx.bytes(), java.nio.charset.StandardCharsets.US_ASCII),
                "the PTX text, NUL-terminated for cuModuleLoadData");
    }
}
