package io.sn11.engine.backend.cuda;

import io.sn11.engine.backend.cuda.CublasLtLocator.Candidate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Finding and binding libcublasLt without a GPU: the search order (candidates injected), the refusals (no file, a file
 * that is no library, a library that is not cuBLASLt) and, where this machine has the library (CI has not; the GPU
 * machine and {@code SN11_CUBLASLT=/path} have), that every bound function resolves and the host-side descriptors work.
 */
class CublasLtTest {
    @TempDir Path dir;

    static final Map<String, String> NO_ENV = Map.of();

    static List<Path> noPython() { throw new AssertionError("python3 asked although a site-packages folder holds the library"); }

    Path touch(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        return Files.writeString(file, "not really a library");
    }

    @Test
    void aConfiguredPathIsTheOnlyCandidate() {
        List<Candidate> c = CublasLtLocator.candidates(Optional.of("/opt/x/libcublasLt.so.13"), Map.of("CUDA_HOME", "/cuda"),
                List.of(dir), CublasLtTest::noPython);
        assertEquals(List.of(Path.of("/opt/x/libcublasLt.so.13")), c.stream().map(Candidate::file).toList());
    }

    @Test
    void pipFoldersComeFirstThenCudaHomeThenTheToolkitThenTheLoader() throws IOException {
        Path site1 = dir.resolve("a/site-packages"), site2 = dir.resolve("b/dist-packages");
        touch(site2.resolve("nvidia/cu13/lib/libcublasLt.so.13"));
        List<Candidate> c = CublasLtLocator.candidates(Optional.empty(), Map.of("CUDA_HOME", "/cuda"), List.of(site1, site2),
                CublasLtTest::noPython);
        assertEquals(List.of(
                site1.resolve("nvidia/cu13/lib/libcublasLt.so.13"), site1.resolve("nvidia/cublas/lib/libcublasLt.so.13"),
                site2.resolve("nvidia/cu13/lib/libcublasLt.so.13"), site2.resolve("nvidia/cublas/lib/libcublasLt.so.13"),
                Path.of("/cuda/lib64/libcublasLt.so.13"), Path.of("/usr/local/cuda/lib64/libcublasLt.so.13")),
                c.subList(0, 6).stream().map(Candidate::file).toList());
        assertEquals(7, c.size());
        assertNull(c.get(6).file(), "last: the system loader's own search");
    }

    @Test
    void python3IsAskedOnlyWhenNoSitePackagesFolderHoldsTheLibrary() {
        Path reported = dir.resolve("py/site-packages/nvidia");
        List<Candidate> c = CublasLtLocator.candidates(Optional.empty(), NO_ENV, List.of(dir.resolve("empty")), () -> List.of(reported));
        assertEquals(reported.resolve("cu13/lib/libcublasLt.so.13"), c.get(2).file());
        assertEquals(reported.resolve("cublas/lib/libcublasLt.so.13"), c.get(3).file());
        assertEquals(Path.of("/usr/local/cuda/lib64/libcublasLt.so.13"), c.get(4).file());
    }

    @Test
    void sitePackagesOfAVirtualenvAreFoundWithoutRunningPython() throws IOException {
        Path venv = dir.resolve("venv");
        Files.createDirectories(venv.resolve("lib/python3.12/site-packages"));
        Files.createDirectories(venv.resolve("lib/python2.7/site-packages"));
        List<Path> found = CublasLtLocator.sitePackages(Map.of("VIRTUAL_ENV", venv.toString()));
        assertEquals(venv.resolve("lib/python3.12/site-packages"), found.get(0));
        assertFalse(found.contains(venv.resolve("lib/python2.7/site-packages")));
    }

    @Test
    void aMissingConfiguredFileIsRefusedByName() {
        CublasLt.Loaded loaded = CublasLt.load(List.of(new Candidate("SN11_CUBLASLT", dir.resolve("nope.so"))));
        assertTrue(loaded.library().isEmpty());
        assertEquals("cuBLASLt not found: " + dir.resolve("nope.so") + " (SN11_CUBLASLT): no such file", loaded.reason());
    }

    @Test
    void aFileThatIsNoLibraryIsRefusedWithTheLoadersError() throws IOException {
        Path text = touch(dir.resolve("libcublasLt.so.13"));
        CublasLt.Loaded loaded = CublasLt.load(List.of(new Candidate("SN11_CUBLASLT", text)));
        assertTrue(loaded.library().isEmpty());
        assertTrue(loaded.reason().startsWith("cuBLASLt not found: " + text + " (SN11_CUBLASLT): "), loaded.reason());
        assertTrue(loaded.reason().contains("Cannot open library"), loaded.reason());
    }

    @Test
    void aLibraryWithoutCublasLtsFunctionsIsRefused() {
        Path libjava = Path.of(System.getProperty("java.home"), "lib", "libjava.so");
        assumeTrue(Files.exists(libjava), "this JDK has no lib/libjava.so");
        CublasLt.Loaded loaded = CublasLt.load(List.of(new Candidate("test", libjava)));
        assertTrue(loaded.library().isEmpty());
        assertEquals("cuBLASLt not found: " + libjava + " (test): no cublasLtGetVersion: not a cuBLASLt library", loaded.reason());
    }

    @Test
    void theRefusalNamesEveryPlaceLookedAtInOrder() throws IOException {
        Path missing = dir.resolve("a/libcublasLt.so.13"), text = touch(dir.resolve("b/libcublasLt.so.13"));
        CublasLt.Loaded loaded = CublasLt.load(List.of(new Candidate("one", missing), new Candidate("two", text)));
        String reason = loaded.reason();
        assertTrue(reason.indexOf(missing + " (one): no such file") < reason.indexOf(text + " (two): "), reason);
    }

    @Test
    void whereThisMachineHasNoCublasLtTheRefusalNamesEveryPlaceLookedAt() {
        assumeTrue(CublasLtLocator.configured(System.getenv()).isEmpty(), "a configured path is the only place looked at");
        CublasLt.Loaded loaded = CublasLt.system();
        assumeTrue(loaded.library().isEmpty(), "this machine has cuBLASLt");
        assertTrue(loaded.reason().startsWith("cuBLASLt not found: "), loaded.reason());
        for (Candidate c : CublasLtLocator.candidates(Optional.empty(), System.getenv())) {
            assertTrue(loaded.reason().contains(c.toString()), c + " in " + loaded.reason());
        }
    }

    @Test
    void offKeepsCublasLtOffWithoutLookingForIt() {
        CublasLt.Loaded loaded = CublasLt.located(Map.of("SN11_CUBLASLT", "off"));
        assumeTrue(System.getProperty(CublasLtLocator.PROPERTY) == null, "-Dsn11.cublaslt overrides the environment");
        assertTrue(loaded.library().isEmpty());
        assertEquals("turned off (SN11_CUBLASLT or -Dsn11.cublaslt is off)", loaded.reason());
    }

    @Test
    void whereThisMachineHasCublasLtEveryFunctionBindsAndTheHostDescriptorsWork() {
        CublasLt.Loaded loaded = CublasLt.system();
        assumeTrue(loaded.library().isPresent(), loaded.reason());
        CublasLt lt = loaded.library().get();
        assertTrue(lt.version() >= 11_0000, "version " + lt.version());
        assertTrue(lt.release().matches("\\d+\\.\\d+\\.\\d+"), lt.release());
        assertEquals("CUBLAS_STATUS_NOT_SUPPORTED (15)", lt.statusName(CublasLt.CUBLAS_STATUS_NOT_SUPPORTED));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment desc = lt.matmulDescCreate(arena, CublasLt.CUBLAS_COMPUTE_32F, CublasLt.CUDA_R_32F);
            lt.matmulDescSetInt(arena, desc, CublasLt.MATMUL_DESC_TRANSA, CublasLt.CUBLAS_OP_T);
            lt.matmulDescSetInt(arena, desc, CublasLt.MATMUL_DESC_EPILOGUE, CublasLt.EPILOGUE_BIAS);
            lt.matmulDescSetPointer(arena, desc, CublasLt.MATMUL_DESC_BIAS_POINTER, 4096);
            MatmulLayout l = MatmulLayout.rowMajor(9, 64, 32);
            MemorySegment a = lt.matrixLayoutCreate(arena, CublasLt.CUDA_R_16BF, l.a());
            MemorySegment pref = lt.preferenceCreate(arena);
            lt.preferenceSetLong(arena, pref, CublasLt.PREF_MAX_WORKSPACE_BYTES, CublasLtMatmul.WORKSPACE_BYTES);
            lt.preferenceDestroy(pref);
            // a 4-byte value for the 8-byte bias pointer is cuBLASLt's refusal, reported with its status name
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> lt.matmulDescSetInt(arena, desc, CublasLt.MATMUL_DESC_BIAS_POINTER, 1));
            assertEquals("cublasLtMatmulDescSetAttribute failed: CUBLAS_STATUS_INVALID_VALUE (7)", e.getMessage());
            lt.matrixLayoutDestroy(a);
            lt.matmulDescDestroy(desc);
        }
    }
}
