package io.sn11.engine.tokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.GZIPInputStream;

/**
 * Real tokenizers for tests: Qwen3's byte-level BPE {@code tokenizer.json} (151,669 tokens, Apache-2.0, committed
 * gzipped beside this class's resources with its notice), plus any {@code tokenizer.json} listed, comma-separated, in
 * the system property {@code sn11.test.tokenizers} (e.g. Llama 3's, which this repository does not ship: its license
 * asks more of whoever redistributes it). Each is loaded once per test run.
 */
public final class RealTokenizers {
    private RealTokenizers() {}

    public record Named(String name, Path file) {
        @Override public String toString() { return name; }
    }

    private static final Map<Path, Tokenizer> LOADED = new ConcurrentHashMap<>();

    public static List<Named> all() {
        List<Named> out = new ArrayList<>();
        out.add(new Named("qwen3", qwen3()));
        for (String p : System.getProperty("sn11.test.tokenizers", "").split(",")) {
            if (!p.isBlank()) out.add(new Named(Path.of(p.strip()).getFileName().toString(), Path.of(p.strip())));
        }
        return out;
    }

    public static Tokenizer load(Named t) {
        return LOADED.computeIfAbsent(t.file(), f -> {
            try {
                return Tokenizer.load(f);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    private static synchronized Path qwen3() {
        try {
            Path file = Path.of(System.getProperty("java.io.tmpdir"), "sn11-test-qwen3-tokenizer-" + ProcessHandle.current().pid() + ".json");
            if (!Files.exists(file)) {
                try (InputStream in = new GZIPInputStream(RealTokenizers.class.getResourceAsStream("qwen3-tokenizer.json.gz"))) {
                    Files.copy(in, file);
                }
                file.toFile().deleteOnExit();
            }
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
