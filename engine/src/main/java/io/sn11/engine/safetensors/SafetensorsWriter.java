package io.sn11.engine.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes a safetensors file. Tensors are declared first (name, dtype, shape, a source of values), then
 * {@link #write(Path)} emits the header (padded with spaces to a multiple of 8 bytes) and streams each
 * tensor's values, so multi-GB files never need to be held in memory.
 */
public final class SafetensorsWriter {

    /** Produces the values of a tensor in row-major order, in chunks: fill {@code chunk[0..len)} with elements
     *  {@code [offset, offset+len)}. */
    @FunctionalInterface
    public interface FloatSource {
        void fill(long offset, float[] chunk, int len);
    }

    private record Pending(String name, DType dtype, long[] shape, FloatSource source) {}

    private final List<Pending> tensors = new ArrayList<>();
    private final Map<String, String> metadata;

    public SafetensorsWriter() { this(Map.of()); }

    public SafetensorsWriter(Map<String, String> metadata) { this.metadata = metadata; }

    public SafetensorsWriter add(String name, DType dtype, long[] shape, float[] values) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        if (n != values.length) throw new IllegalArgumentException(name + ": " + values.length + " values for " + n + " elements");
        return add(name, dtype, shape, (off, chunk, len) -> System.arraycopy(values, (int) off, chunk, 0, len));
    }

    public SafetensorsWriter add(String name, DType dtype, long[] shape, FloatSource source) {
        for (Pending p : tensors) if (p.name().equals(name)) throw new IllegalArgumentException("duplicate tensor " + name);
        tensors.add(new Pending(name, dtype, shape.clone(), source));
        return this;
    }

    private static long elements(long[] shape) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    public void write(Path file) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode header = json.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode md = header.putObject("__metadata__");
            metadata.forEach(md::put);
        }
        long offset = 0;
        for (Pending p : tensors) {
            ObjectNode e = header.putObject(p.name());
            e.put("dtype", p.dtype().name());
            ArrayNode sh = e.putArray("shape");
            for (long d : p.shape()) sh.add(d);
            long bytes = Math.multiplyExact(elements(p.shape()), p.dtype().bytes());
            ArrayNode off = e.putArray("data_offsets");
            off.add(offset);
            off.add(offset + bytes);
            offset += bytes;
        }
        byte[] headerBytes = json.writeValueAsBytes(header);
        int padded = (headerBytes.length + 7) / 8 * 8;
        byte[] hb = new byte[padded];
        System.arraycopy(headerBytes, 0, hb, 0, headerBytes.length);
        for (int i = headerBytes.length; i < padded; i++) hb[i] = ' ';

        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 20)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
            out.write(len.array());
            out.write(hb);
            final int chunkElems = 1 << 16;
            float[] chunk = new float[chunkElems];
            ByteBuffer bytes = ByteBuffer.allocate(chunkElems * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (Pending p : tensors) {
                long n = elements(p.shape());
                for (long pos = 0; pos < n; pos += chunkElems) {
                    int len2 = (int) Math.min(chunkElems, n - pos);
                    p.source().fill(pos, chunk, len2);
                    bytes.clear();
                    for (int i = 0; i < len2; i++) {
                        switch (p.dtype()) {
                            case F32 -> bytes.putFloat(chunk[i]);
                            case F16 -> bytes.putShort(DType.floatToHalf(chunk[i]));
                            case BF16 -> bytes.putShort(DType.floatToBf16(chunk[i]));
                        }
                    }
                    out.write(bytes.array(), 0, bytes.position());
                }
            }
        }
    }

    /** Writes raw header text after a given length prefix: for tests of malformed files. */
    public static void writeRaw(Path file, long declaredHeaderLength, String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(declaredHeaderLength).put(h).put(data);
        Files.write(file, b.array());
    }
}
