package io.sn11.engine.backend.cuda;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * Where {@code libcublasLt.so.13} may be, in the order tried:
 * <ol>
 * <li>the configured path, system property {@code sn11.cublaslt} or else environment variable {@code SN11_CUBLASLT},
 *     and nothing else when one is set ({@code off} turns cuBLASLt off);</li>
 * <li>the pip package {@code nvidia-cublas} ({@code nvidia/cu13/lib}, older wheels {@code nvidia/cublas/lib}) in the
 *     Python site-packages folders found without running Python (virtualenv, conda, /usr/local/lib/python3*,
 *     /usr/lib/python3*, ~/.local), and only when none holds it, in the folders {@code python3} itself reports;</li>
 * <li>{@code $CUDA_HOME/lib64}, then {@code /usr/local/cuda/lib64};</li>
 * <li>the system loader's own search ({@code LD_LIBRARY_PATH}, {@code ld.so.cache}).</li>
 * </ol>
 */
final class CublasLtLocator {
    static final String LIBRARY = "libcublasLt.so.13";
    static final String PROPERTY = "sn11.cublaslt", ENV = "SN11_CUBLASLT";
    /** The configured value that keeps cuBLASLt off (the WMMA kernels run every matmul). */
    static final String OFF = "off";

    private CublasLtLocator() {}

    /** One place to try: a file, or ({@code file} null) the library name handed to the system loader. */
    record Candidate(String origin, Path file) {
        @Override public String toString() { return file == null ? LIBRARY + " via " + origin : file + " (" + origin + ")"; }
    }

    /** The configured value, property before environment. */
    static Optional<String> configured(Map<String, String> env) {
        String property = System.getProperty(PROPERTY);
        if (property != null && !property.isBlank()) return Optional.of(property.strip());
        String value = env.get(ENV);
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.strip());
    }

    /** The candidates on this machine: Python's folders as found here, python3 asked if need be. */
    static List<Candidate> candidates(Optional<String> configured, Map<String, String> env) {
        return candidates(configured, env, sitePackages(env), CublasLtLocator::askPython);
    }

    /**
     * The candidates in order (see the class comment); {@code configured} is not {@code off} here.
     * {@code pythonNvidiaFolders} is called only when no site-packages folder holds the pip library.
     */
    static List<Candidate> candidates(Optional<String> configured, Map<String, String> env, List<Path> sitePackages,
                                      Supplier<List<Path>> pythonNvidiaFolders) {
        if (configured.isPresent()) return List.of(new Candidate(ENV + " / -D" + PROPERTY, Path.of(configured.get())));
        List<Candidate> out = new ArrayList<>();
        for (Path site : sitePackages) out.addAll(pipCandidates(site.resolve("nvidia"), "pip nvidia-cublas"));
        if (out.stream().noneMatch(c -> Files.isRegularFile(c.file()))) {
            for (Path nvidia : pythonNvidiaFolders.get()) out.addAll(pipCandidates(nvidia, "pip nvidia-cublas, as python3 reports"));
        }
        String cudaHome = env.get("CUDA_HOME");
        if (cudaHome != null && !cudaHome.isBlank()) out.add(new Candidate("CUDA_HOME", Path.of(cudaHome, "lib64", LIBRARY)));
        out.add(new Candidate("CUDA toolkit", Path.of("/usr/local/cuda/lib64", LIBRARY)));
        out.add(new Candidate("the system loader", null));
        return out;
    }

    private static List<Candidate> pipCandidates(Path nvidia, String origin) {
        return List.of(new Candidate(origin, nvidia.resolve("cu13/lib").resolve(LIBRARY)),
                new Candidate(origin, nvidia.resolve("cublas/lib").resolve(LIBRARY)));
    }

    /** Existing site-packages and dist-packages folders of the usual Python installations, without running Python. */
    static List<Path> sitePackages(Map<String, String> env) {
        List<Path> libs = new ArrayList<>();
        for (String prefix : new String[] {env.get("VIRTUAL_ENV"), env.get("CONDA_PREFIX")}) {
            if (prefix != null && !prefix.isBlank()) libs.add(Path.of(prefix, "lib"));
        }
        libs.add(Path.of("/usr/local/lib"));
        libs.add(Path.of("/usr/lib"));
        libs.add(Path.of("/opt/conda/lib"));
        libs.add(Path.of(System.getProperty("user.home"), ".local/lib"));
        List<Path> out = new ArrayList<>();
        for (Path lib : libs) {
            for (Path python : pythonFolders(lib)) {
                for (String name : new String[] {"site-packages", "dist-packages"}) {
                    if (Files.isDirectory(python.resolve(name))) out.add(python.resolve(name));
                }
            }
        }
        return out;
    }

    private static List<Path> pythonFolders(Path lib) {
        if (!Files.isDirectory(lib)) return List.of();
        try (Stream<Path> entries = Files.list(lib)) {
            return entries.filter(p -> p.getFileName().toString().startsWith("python3")).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** The folders of python3's {@code nvidia} namespace package; none when python3 or the package is missing. */
    private static List<Path> askPython() {
        try {
            Process p = new ProcessBuilder("python3", "-c", "import nvidia\nfor p in nvidia.__path__: print(p)")
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            // a few lines of output fit the pipe: wait first, so a hanging python3 cannot hold the backend's start
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return List.of();
            }
            if (p.exitValue() != 0) return List.of();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return output.lines().filter(l -> !l.isBlank()).map(Path::of).toList();
        } catch (IOException e) {
            return List.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of();
        }
    }
}
