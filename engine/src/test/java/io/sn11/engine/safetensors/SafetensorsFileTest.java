package io.sn11.engine.safetensors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class SafetensorsFileTest {
    @TempDir Path dir;

    private SafetensorsException openFails(String header, int dataBytes) throws IOException {
        Path f = dir.resolve("bad.safetensors");
        byte[] h = header.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        SafetensorsWriter.writeRaw(f, h.length, header, new byte[dataBytes]);
        return assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(f).close());
    }

    private static void assertMessage(SafetensorsException e, String... parts) {
        for (String p : parts) assertTrue(e.getMessage().contains(p), () -> "'" + e.getMessage() + "' lacks '" + p + "'");
        assertTrue(e.getMessage().contains("bad.safetensors") || e.getMessage().contains(".safetensors"), e.getMessage());
    }

    @Test
    void truncatedFileShorterThanLength() throws IOException {
        Path f = dir.resolve("bad.safetensors");
        Files.write(f, new byte[] {1, 2, 3});
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(f));
        assertMessage(e, "shorter than the 8-byte header length");
    }

    @Test
    void truncatedDataSection() throws IOException {
        // declares 16 bytes of F32 but only 8 are present
        SafetensorsException e = openFails("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8);
        assertMessage(e, "tensor a", "outside the data section");
    }

    @Test
    void headerLengthBeyondFile() throws IOException {
        Path f = dir.resolve("bad.safetensors");
        SafetensorsWriter.writeRaw(f, 1000, "{}", new byte[0]);
        assertMessage(assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(f)), "exceeds the file size");
    }

    @Test
    void hugeHeaderLength() throws IOException {
        Path f = dir.resolve("bad.safetensors");
        SafetensorsWriter.writeRaw(f, 1L << 62, "{}", new byte[0]);
        assertMessage(assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(f)), "exceeds the limit");
        SafetensorsWriter.writeRaw(f, -5, "{}", new byte[0]);
        assertMessage(assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(f)), "must be positive");
        SafetensorsWriter.writeRaw(f, 0, "{}", new byte[0]);
        assertMessage(assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(f)), "must be positive");
    }

    @Test
    void offsetsOutOfRange() throws IOException {
        assertMessage(openFails("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", 16), "tensor w", "outside");
        assertMessage(openFails("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[16,8]}}", 16), "tensor w", "outside");
        assertMessage(openFails("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}", 16), "tensor w", "outside");
        assertMessage(openFails("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,99999999999999999999]}}", 16),
                "tensor w", "not integers");
    }

    @Test
    void overlappingTensors() throws IOException {
        SafetensorsException e = openFails("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 16);
        assertMessage(e, "tensor b", "overlaps tensor a");
    }

    @Test
    void shapeSizeMismatchAndOverflow() throws IOException {
        assertMessage(openFails("{\"a\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8),
                "tensor a", "needs 6 bytes", "span 8");
        assertMessage(openFails("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4],\"data_offsets\":[0,8]}}", 8),
                "tensor a", "overflows");
        assertMessage(openFails("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,8]}}", 8),
                "tensor a", "not a non-negative integer");
        assertMessage(openFails("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,8]}}", 8),
                "tensor a", "not a non-negative integer");
    }

    @Test
    void unsupportedDtype() throws IOException {
        SafetensorsException e = openFails("{\"ids\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8);
        assertMessage(e, "tensor ids has unsupported dtype I64; supported: F32, F16, BF16");
    }

    @Test
    void malformedHeaders() throws IOException {
        assertMessage(openFails("not json at all", 0), "not valid JSON");
        assertMessage(openFails("[1,2,3]", 0), "not a JSON object");
        assertMessage(openFails("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4), "tensor a", "data_offsets");
        assertMessage(openFails("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "tensor a", "dtype");
        assertMessage(openFails("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4), "tensor a", "shape");
        assertMessage(openFails("{\"a\":5}", 4), "tensor a", "not an object");
        assertMessage(openFails("{\"__metadata__\":{\"k\":1}}", 0), "__metadata__");
        assertMessage(openFails("{} trailing", 0), "not valid JSON");
        assertMessage(openFails("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8), "not valid JSON", "Duplicate");
    }

    @Test
    void metadataAndEmptyTensorAllowed() throws IOException {
        Path f = dir.resolve("ok.safetensors");
        String h = "{\"__metadata__\":{\"format\":\"pt\"},\"e\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[0,0]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        ByteBuffer data = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(2.5f);
        SafetensorsWriter.writeRaw(f, h.getBytes().length, h, data.array());
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertEquals(Map.of("format", "pt"), st.metadata());
            assertEquals(0, st.tensor("e").numElements());
            assertEquals(2.5f, st.tensor("a").getFloat(0));
            SafetensorsException e = assertThrows(SafetensorsException.class, () -> st.tensor("missing"));
            assertTrue(e.getMessage().contains("tensor missing not found"));
        }
    }

    @Test
    void roundTripEachDtype() throws IOException {
        float[] values = {0f, 1f, -2f, 0.5f, 3.140625f, -0.09375f, 1024f, 0.25f};
        for (DType dt : DType.values()) {
            Path f = dir.resolve("rt-" + dt + ".safetensors");
            new SafetensorsWriter(Map.of("k", "v")).add("x", dt, new long[] {2, 4}, values)
                    .add("y", dt, new long[] {3}, new float[] {7f, 8f, 9f}).write(f);
            long headerLen;
            try (var ch = java.nio.channels.FileChannel.open(f)) {
                ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
                ch.read(b, 0);
                headerLen = b.getLong(0);
            }
            assertEquals(0, headerLen % 8, "header padded to 8 bytes");
            try (SafetensorsFile st = SafetensorsFile.open(f)) {
                Tensor x = st.tensor("x");
                assertEquals(dt, x.dtype());
                assertArrayEquals(new long[] {2, 4}, x.shape());
                assertArrayEquals(values, x.toFloatArray(), dt + ": values exactly representable survive");
                assertArrayEquals(new float[] {7f, 8f, 9f}, st.tensor("y").toFloatArray());
                assertEquals("v", st.metadata().get("k"));
                assertTrue(x.data().isReadOnly());
            }
        }
    }

    /** The digest of the mapped file is the plain SHA-256 of the file's bytes, header included. */
    @Test
    void contentDigestIsTheFilesSha256() throws Exception {
        Path f = dir.resolve("w.safetensors");
        new SafetensorsWriter(Map.of()).add("x", DType.BF16, new long[] {3, 5}, new float[15]).write(f);
        java.security.MessageDigest mapped = java.security.MessageDigest.getInstance("SHA-256");
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            st.contentDigest(mapped);
            assertEquals(Files.size(f), st.byteSize());
        }
        assertArrayEquals(java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)), mapped.digest());
    }

    /** A file put in the path's place after opening is neither what the tensors read nor what is digested. */
    @Test
    void aFileSwappedAfterOpeningIsNotWhatIsDigested() throws Exception {
        Path f = dir.resolve("w.safetensors");
        Path other = dir.resolve("other.safetensors");
        new SafetensorsWriter(Map.of()).add("x", DType.F32, new long[] {2}, new float[] {1f, 2f}).write(f);
        new SafetensorsWriter(Map.of()).add("x", DType.F32, new long[] {2}, new float[] {3f, 4f}).write(other);
        byte[] opened = Files.readAllBytes(f);
        java.security.MessageDigest mapped = java.security.MessageDigest.getInstance("SHA-256");
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            Files.move(other, f, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            st.contentDigest(mapped);
            assertEquals(1f, st.tensor("x").getFloat(0));
        }
        assertArrayEquals(java.security.MessageDigest.getInstance("SHA-256").digest(opened), mapped.digest());
    }

    /**
     * A tensor over 2 GiB (a sparse file: only its last page is written) maps whole and reads to its last element; a
     * ByteBuffer cannot span it. Closing the file unmaps it: reading afterwards is an error, not a crash.
     */
    @Test
    void tensorLargerThanTwoGibibytesReadsToItsLastElement() throws IOException {
        long elements = (1L << 29) + 3;  // F32: 2 GiB + 12 bytes
        String h = "{\"big\":{\"dtype\":\"F32\",\"shape\":[" + elements + "],\"data_offsets\":[0," + elements * 4 + "]}}";
        Path f = dir.resolve("big.safetensors");
        try {
            SafetensorsWriter.writeRaw(f, h.getBytes().length, h, new byte[0]);
            long dataStart = 8 + h.getBytes().length;
            try (var file = new java.io.RandomAccessFile(f.toFile(), "rw")) {
                file.setLength(dataStart + elements * 4);
                file.seek(dataStart + (elements - 1) * 4);
                file.writeInt(Integer.reverseBytes(Float.floatToIntBits(-7.25f)));  // little-endian
            }
            Tensor big;
            try (SafetensorsFile st = SafetensorsFile.open(f)) {
                big = st.tensor("big");
                assertEquals(elements, big.numElements());
                assertEquals(0f, big.getFloat(0));
                assertEquals(-7.25f, big.getFloat(elements - 1));
            }
            assertThrows(IllegalStateException.class, () -> big.getFloat(elements - 1));
        } finally {
            Files.deleteIfExists(f);
        }
    }

    @Test
    void halfPrecisionBitPatterns() {
        assertEquals(1.0f, DType.halfToFloat((short) 0x3C00));
        assertEquals(-2.0f, DType.halfToFloat((short) 0xC000));
        assertEquals(1.5f, DType.halfToFloat((short) 0x3E00));
        assertEquals(65504f, DType.halfToFloat((short) 0x7BFF));
        assertEquals(0x1p-24f, DType.halfToFloat((short) 0x0001)); // smallest subnormal
        assertEquals(0x1p-14f, DType.halfToFloat((short) 0x0400)); // smallest normal
        assertEquals(0.333251953125f, DType.halfToFloat((short) 0x3555));
        assertEquals(Float.POSITIVE_INFINITY, DType.halfToFloat((short) 0x7C00));
        assertTrue(Float.isNaN(DType.halfToFloat((short) 0x7E00)));
        assertEquals(-0.0f, DType.halfToFloat((short) 0x8000));

        assertEquals((short) 0x3C00, DType.floatToHalf(1f));
        assertEquals((short) 0x3555, DType.floatToHalf(1f / 3));
        assertEquals((short) 0x7BFF, DType.floatToHalf(65504f));
        assertEquals((short) 0x7C00, DType.floatToHalf(65520f)); // halfway to overflow rounds to even = inf
        assertEquals((short) 0x0001, DType.floatToHalf(0x1p-24f));
        assertEquals((short) 0x0000, DType.floatToHalf(0x1p-25f)); // tie to even: 0
        assertEquals((short) 0x0003, DType.floatToHalf(0x1.8p-23f)); // 3 * 2^-24: exact subnormal
        assertEquals((short) 0x0002, DType.floatToHalf(0x1.4p-23f)); // 2.5 * 2^-24: tie -> even 2
        assertEquals((short) 0x3C00, DType.floatToHalf(1f + 0x1p-11f)); // tie between 0x3C00 and 0x3C01 -> even
        assertEquals((short) 0x3C02, DType.floatToHalf(1f + 3 * 0x1p-11f)); // tie between 0x3C01 and 0x3C02 -> even
        // every half value survives float -> half -> float
        for (int i = 0; i < 0x10000; i++) {
            float f = DType.halfToFloat((short) i);
            if (Float.isNaN(f)) continue;
            assertEquals(f, DType.halfToFloat(DType.floatToHalf(f)), "half 0x" + Integer.toHexString(i));
        }
    }

    @Test
    void bfloat16BitPatterns() {
        assertEquals(1.0f, DType.bf16ToFloat((short) 0x3F80));
        assertEquals(-2.0f, DType.bf16ToFloat((short) 0xC000));
        assertEquals(3.140625f, DType.bf16ToFloat((short) 0x4049));
        assertEquals(0.333984375f, DType.bf16ToFloat((short) 0x3EAB));
        assertEquals((short) 0x3EAB, DType.floatToBf16(1f / 3));      // 0x3EAAAAAB rounds up
        assertEquals((short) 0x4049, DType.floatToBf16(3.14159265f)); // 0x40490FDB rounds down
        assertEquals((short) 0x3F80, DType.floatToBf16(Float.intBitsToFloat(0x3F808000))); // tie -> even
        assertEquals((short) 0x3F82, DType.floatToBf16(Float.intBitsToFloat(0x3F818000))); // tie -> even
        assertTrue(Float.isNaN(DType.bf16ToFloat(DType.floatToBf16(Float.NaN))));
    }

    @Test
    void shardedModelWithIndex() throws IOException {
        Path m = dir.resolve("m");
        Files.createDirectories(m);
        new SafetensorsWriter().add("a", DType.F32, new long[] {2}, new float[] {1, 2}).write(m.resolve("model-00001-of-00002.safetensors"));
        new SafetensorsWriter().add("b", DType.BF16, new long[] {1}, new float[] {3}).write(m.resolve("model-00002-of-00002.safetensors"));
        Files.writeString(m.resolve(SafetensorsModel.INDEX), "{\"metadata\":{},\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\","
                + "\"b\":\"model-00002-of-00002.safetensors\"}}");
        try (SafetensorsModel sm = SafetensorsModel.open(m)) {
            assertTrue(Arrays.equals(new float[] {1, 2}, sm.tensor("a").toFloatArray()));
            assertEquals(3f, sm.tensor("b").getFloat(0));
            assertTrue(sm.fileBytes() > 0);
        }
        Files.writeString(m.resolve(SafetensorsModel.INDEX), "{\"weight_map\":{\"a\":\"../evil.safetensors\"}}");
        assertThrows(SafetensorsException.class, () -> SafetensorsModel.open(m));
    }

    /** Random corruption of a valid file: every outcome is a clean open or a SafetensorsException, nothing else. */
    @Test
    void fuzzedFilesFailCleanly() throws IOException {
        Path good = dir.resolve("good.safetensors");
        new SafetensorsWriter().add("a", DType.F32, new long[] {2, 3}, new float[6])
                .add("b", DType.BF16, new long[] {4}, new float[4]).add("c", DType.F16, new long[] {1}, new float[1]).write(good);
        byte[] bytes = Files.readAllBytes(good);
        java.util.Random r = new java.util.Random(99);
        Path f = dir.resolve("fuzz.safetensors");
        int opened = 0, rejected = 0;
        for (int iter = 0; iter < 2000; iter++) {
            byte[] m = bytes.clone();
            int mode = r.nextInt(3);
            if (mode == 0) {
                m = Arrays.copyOf(m, r.nextInt(m.length));                    // truncate
            } else if (mode == 1) {
                for (int k = 0; k < 1 + r.nextInt(3); k++) m[r.nextInt(m.length)] = (byte) r.nextInt(256);  // flip bytes
            } else {
                String digits = "0123456789-,[]{}\" ";                      // perturb the JSON structurally
                for (int k = 0; k < 1 + r.nextInt(3); k++) m[8 + r.nextInt(m.length - 8)] = (byte) digits.charAt(r.nextInt(digits.length()));
            }
            Files.write(f, m);
            try (SafetensorsFile st = SafetensorsFile.open(f)) {
                for (String name : st.entries().keySet()) st.tensor(name).toFloatArray();
                opened++;
            } catch (SafetensorsException e) {
                assertTrue(e.getMessage().contains("fuzz.safetensors"), e.getMessage());
                rejected++;
            }
        }
        assertTrue(rejected > 500, "most corruptions are detected: " + rejected);
        assertTrue(opened > 0, "some corruptions (e.g. in the data or padding) are harmless");
    }
}
