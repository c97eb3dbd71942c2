package io.sn11.engine.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One {@code .safetensors} file: an 8-byte little-endian header length, a JSON header, then the tensor data.
 * {@link #open(Path)} maps the file read-only as one {@link MemorySegment} (no 2 GiB limit, nothing copied) and
 * validates the whole header before any tensor is handed out; tensors are slices of the data section. The mapping
 * lives in an arena this file owns: {@link #close()} unmaps it, after which its tensors can no longer be read.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** Upper bound on the JSON header; real headers are a few hundred KiB. */
    public static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    /**
     * The mapping is digested through a heap buffer of this size: a digest fed a direct buffer copies it out in 4 KiB
     * pieces, which measured about half as fast.
     */
    private static final long DIGEST_CHUNK_BYTES = 1L << 20;

    private static final ValueLayout.OfLong LENGTH = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Validated entry of the header: offsets are relative to the start of the data section. */
    public record Entry(String name, DType dtype, long[] shape, long begin, long end) {}

    /** Strict: duplicate keys and anything after the JSON object (other than padding spaces) are errors. */
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private final Path path;
    private final Arena arena;
    private final MemorySegment file;
    private final MemorySegment data;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, Arena arena, MemorySegment file, MemorySegment data,
                            Map<String, Entry> entries, Map<String, String> metadata) {
        this.path = path;
        this.arena = arena;
        this.file = file;
        this.data = data;
        this.entries = entries;
        this.metadata = metadata;
    }

    public static SafetensorsFile open(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long fileSize = ch.size();
            if (fileSize < 8) throw error(path, "file is " + fileSize + " bytes, shorter than the 8-byte header length");
            // shared: the backends' worker threads read the weights; the mapping outlives the channel
            Arena arena = Arena.ofShared();
            try {
                // The whole file, header included: what is parsed, used and hashed (contentDigest) are the same bytes.
                MemorySegment file = ch.map(FileChannel.MapMode.READ_ONLY, 0, fileSize, arena);
                long headerLen = file.get(LENGTH, 0);
                if (headerLen <= 0) throw error(path, "header length " + headerLen + " must be positive");
                if (headerLen > MAX_HEADER_BYTES) {
                    throw error(path, "header length " + headerLen + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes");
                }
                if (headerLen > fileSize - 8) {
                    throw error(path, "header length " + headerLen + " exceeds the file size " + fileSize + " - 8");
                }
                String headerText = new String(file.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
                long dataStart = 8 + headerLen;
                Map<String, String> metadata = new LinkedHashMap<>();
                Map<String, Entry> entries = parseHeader(path, headerText, fileSize - dataStart, metadata);
                return new SafetensorsFile(path, arena, file, file.asSlice(dataStart), entries, metadata);
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
        }
    }

    static Map<String, Entry> parseHeader(Path path, String headerText, long dataSize, Map<String, String> metadataOut) {
        JsonNode root;
        try {
            root = JSON.readTree(headerText);
        } catch (JsonProcessingException e) {
            throw error(path, "header is not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) throw error(path, "header is not a JSON object");
        Map<String, Entry> entries = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = ((ObjectNode) root).fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> f = it.next();
            String name = f.getKey();
            JsonNode v = f.getValue();
            if (name.equals("__metadata__")) {
                if (!v.isObject()) throw error(path, "__metadata__ is not an object");
                v.fields().forEachRemaining(m -> {
                    if (!m.getValue().isTextual()) throw error(path, "__metadata__ value '" + m.getKey() + "' is not a string");
                    metadataOut.put(m.getKey(), m.getValue().asText());
                });
                continue;
            }
            entries.put(name, parseEntry(path, name, v, dataSize));
        }
        checkNoOverlap(path, entries.values());
        return Collections.unmodifiableMap(entries);
    }

    private static Entry parseEntry(Path path, String name, JsonNode v, long dataSize) {
        String where = "tensor " + name;
        if (!v.isObject()) throw error(path, where + ": entry is not an object");
        JsonNode dt = v.get("dtype"), sh = v.get("shape"), off = v.get("data_offsets");
        if (dt == null || !dt.isTextual()) throw error(path, where + ": missing or non-string dtype");
        if (sh == null || !sh.isArray()) throw error(path, where + ": missing or non-array shape");
        if (off == null || !off.isArray() || off.size() != 2) throw error(path, where + ": data_offsets must be [begin, end]");
        DType dtype;
        try {
            dtype = DType.valueOf(dt.asText());
        } catch (IllegalArgumentException e) {
            throw error(path, where + " has unsupported dtype " + dt.asText() + "; supported: F32, F16, BF16");
        }
        long[] shape = new long[sh.size()];
        long elements = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = sh.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0) {
                throw error(path, where + ": shape entry " + d + " is not a non-negative integer");
            }
            shape[i] = d.asLong();
            try {
                elements = Math.multiplyExact(elements, shape[i]);
            } catch (ArithmeticException e) {
                throw error(path, where + ": shape " + sh + " overflows");
            }
        }
        long bytes;
        try {
            bytes = Math.multiplyExact(elements, dtype.bytes());
        } catch (ArithmeticException e) {
            throw error(path, where + ": shape " + sh + " overflows");
        }
        for (JsonNode o : off) {
            if (!o.isIntegralNumber() || !o.canConvertToLong()) throw error(path, where + ": data_offsets " + off + " are not integers");
        }
        long begin = off.get(0).asLong(), end = off.get(1).asLong();
        if (begin < 0 || begin > end || end > dataSize) {
            throw error(path, where + ": data_offsets [" + begin + ", " + end + "] outside the data section of "
                    + dataSize + " bytes");
        }
        if (end - begin != bytes) {
            throw error(path, where + ": shape " + sh + " of " + dtype + " needs " + bytes + " bytes but data_offsets span "
                    + (end - begin));
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    private static void checkNoOverlap(Path path, Iterable<Entry> all) {
        List<Entry> sorted = new ArrayList<>();
        all.forEach(sorted::add);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        Entry prev = null;
        for (Entry e : sorted) {
            if (e.begin() == e.end()) continue; // empty tensors occupy no bytes
            if (prev != null && e.begin() < prev.end()) {
                throw error(path, "tensor " + e.name() + " [" + e.begin() + ", " + e.end() + ") overlaps tensor "
                        + prev.name() + " [" + prev.begin() + ", " + prev.end() + ")");
            }
            prev = e;
        }
    }

    static SafetensorsException error(Path path, String msg) {
        return new SafetensorsException(path + ": " + msg);
    }

    public Path path() { return path; }

    public Map<String, Entry> entries() { return entries; }

    public Map<String, String> metadata() { return Collections.unmodifiableMap(metadata); }

    public boolean contains(String name) { return entries.containsKey(name); }

    /** The named tensor: a read-only slice of the mapped data section. */
    public Tensor tensor(String name) {
        Entry e = entries.get(name);
        if (e == null) throw error(path, "tensor " + name + " not found");
        return new Tensor(name, e.dtype(), e.shape(), data.asSlice(e.begin(), e.end() - e.begin()));
    }

    /** The size of the file in bytes, as mapped. */
    public long byteSize() { return file.byteSize(); }

    /**
     * Feeds every byte of the file, as mapped (header and tensor data: the bytes the tensors are read from), to
     * {@code digest}; the file is not read again from disk, so a file replaced after {@link #open} does not count.
     */
    public void contentDigest(MessageDigest digest) {
        byte[] chunk = new byte[(int) Math.min(DIGEST_CHUNK_BYTES, file.byteSize())];
        for (long offset = 0; offset < file.byteSize(); offset += chunk.length) {
            int n = (int) Math.min(chunk.length, file.byteSize() - offset);
            MemorySegment.copy(file, ValueLayout.JAVA_BYTE, offset, chunk, 0, n);
            digest.update(chunk, 0, n);
        }
    }

    /** Unmaps the file (again: nothing): its tensors' bytes are gone, reading one throws IllegalStateException. */
    @Override
    public void close() {
        if (arena.scope().isAlive()) arena.close();
    }
}
