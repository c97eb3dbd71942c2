package io.sn11.gpunode.store;

import io.sn11.cluster.domain.FailureCategory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PrecheckTest {
    static final String CONFIG = "{\"architectures\": [\"MistralForCausalLM\"], \"hidden_size\": 16}\n";
    static final long LIMIT = 1L << 20;

    @TempDir
    Path dir;
    byte[] shard1;
    byte[] shard2;
    final Precheck precheck = new Precheck();

    @BeforeEach
    void validModel() throws IOException {
        Random r = new Random(7);
        shard1 = new byte[5000];
        shard2 = new byte[3000];
        r.nextBytes(shard1);
        r.nextBytes(shard2);
        Files.writeString(dir.resolve("config.json"), CONFIG);
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\":{}}");
        // written in the reverse of their sorted order, to check the hash sorts them
        Files.write(dir.resolve("model-00002-of-00002.safetensors"), shard2);
        Files.write(dir.resolve("model-00001-of-00002.safetensors"), shard1);
        Files.writeString(dir.resolve("model.safetensors.index.json"),
                "{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"model-00002-of-00002.safetensors\"}}");
    }

    static String hex(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    void assertFailsWith(PrecheckResult result, String text) {
        assertFalse(result.passed());
        assertNull(result.contentHash());
        assertEquals(FailureCategory.MINER, result.category().orElseThrow());
        assertTrue(result.reason().contains(text), "reason '" + result.reason() + "' should mention '" + text + "'");
    }

    @Test
    void passesAndRecordsContentHashAndWeightBytes() throws Exception {
        PrecheckResult result = precheck.check(dir, "main", "chatml", LIMIT);
        assertTrue(result.passed(), result.reason());
        assertTrue(result.category().isEmpty());
        assertEquals("", result.reason());
        assertEquals(shard1.length + shard2.length, result.weightBytes());

        // independent computation: config bytes, then "name:sha256hex\n" per weight file by name
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        md.update(CONFIG.getBytes(StandardCharsets.UTF_8));
        md.update(("model-00001-of-00002.safetensors:" + hex(shard1) + "\n").getBytes(StandardCharsets.UTF_8));
        md.update(("model-00002-of-00002.safetensors:" + hex(shard2) + "\n").getBytes(StandardCharsets.UTF_8));
        assertEquals(HexFormat.of().formatHex(md.digest()), result.contentHash());
        assertEquals(result.contentHash(), result.contentHashIfPassed().orElseThrow());
    }

    /** The evaluation's check: the same verdicts, no content hash (it hashes the bytes it loads instead). */
    @Test
    void theUnhashedCheckJudgesAlikeWithoutAHash() throws Exception {
        PrecheckResult unhashed = precheck.checkUnhashed(dir, "main", "chatml", LIMIT);
        assertTrue(unhashed.passed(), unhashed.reason());
        assertNull(unhashed.contentHash());
        assertEquals(shard1.length + shard2.length, unhashed.weightBytes());
        Files.delete(dir.resolve("tokenizer.json"));
        assertFailsWith(precheck.checkUnhashed(dir, "main", "chatml", LIMIT), "tokenizer.json missing");
        assertFailsWith(precheck.checkUnhashed(dir, null, "chatml", LIMIT), "revision not pinned");
    }

    @Test
    void contentHashChangesWithAnyWeightByte() throws Exception {
        String before = precheck.check(dir, "chatml", LIMIT).contentHash();
        shard2[0] ^= 1;
        Files.write(dir.resolve("model-00002-of-00002.safetensors"), shard2);
        assertFalse(before.equals(precheck.check(dir, "chatml", LIMIT).contentHash()));
    }

    @Test
    void missingRepository() {
        assertFailsWith(precheck.check(dir.resolve("absent"), "chatml", LIMIT), "repository not present");
    }

    @Test
    void revisionMustBePinned() {
        assertFailsWith(precheck.check(dir, null, "chatml", LIMIT), "revision not pinned");
        assertFailsWith(precheck.check(dir, " ", "chatml", LIMIT), "revision not pinned");
        assertFailsWith(precheck.check(dir, "../x", "chatml", LIMIT), "invalid revision");
    }

    @ParameterizedTest
    @ValueSource(strings = {"pytorch_model.bin", "model.pt", "weights.pth", "model.ckpt", "state.pkl", "state.pickle", "TRAINING_ARGS.BIN"})
    void pickleWeightsFail(String file) throws IOException {
        Files.write(dir.resolve(file), new byte[]{1});
        assertFailsWith(precheck.check(dir, "chatml", LIMIT), "pickle");
        assertTrue(precheck.check(dir, "chatml", LIMIT).reason().contains(file));
    }

    @Test
    void atLeastOneSafetensorsFile() throws IOException {
        Files.delete(dir.resolve("model-00001-of-00002.safetensors"));
        Files.delete(dir.resolve("model-00002-of-00002.safetensors"));
        Files.delete(dir.resolve("model.safetensors.index.json"));
        assertFailsWith(precheck.check(dir, "chatml", LIMIT), "no *.safetensors");
    }

    @Test
    void weightsWithinTheLimit() {
        long total = shard1.length + shard2.length;
        assertTrue(precheck.check(dir, "chatml", total).passed(), "exactly at the limit passes");
        PrecheckResult result = precheck.check(dir, "chatml", total - 1);
        assertFailsWith(result, "too large");
        assertEquals(total, result.weightBytes());
    }

    @ParameterizedTest
    @ValueSource(strings = {"config.json", "tokenizer.json", "model.safetensors.index.json"})
    void aMetadataFileBeyondItsBoundFailsBeforeAnythingReadsIt(String file) throws IOException {
        // Sparse: as large as a hostile upload without costing the test the disk. Valid JSON would not
        // matter: nothing may parse a file of this size in the evaluation's JVM.
        long size = Precheck.MAX_METADATA_BYTES.get(file) + 1;
        try (RandomAccessFile raf = new RandomAccessFile(dir.resolve(file).toFile(), "rw")) {
            raf.setLength(size);
        }
        PrecheckResult result = precheck.check(dir, "chatml", LIMIT);
        assertFailsWith(result, file + " is " + size + " bytes");
    }

    @Test
    void configMissing() throws IOException {
        Files.delete(dir.resolve("config.json"));
        assertFailsWith(precheck.check(dir, "chatml", LIMIT), "config.json missing");
    }

    @Test
    void configNotJson() throws IOException {
        Files.writeString(dir.resolve("config.json"), "{\"architectures\": [");
        assertFailsWith(precheck.check(dir, "chatml", LIMIT), "config.json is not valid JSON");
    }

    @Test
    void unsupportedArchitecture() throws IOException {
        Files.writeString(dir.resolve("config.json"), "{\"architectures\": [\"GPT2LMHeadModel\"]}");
        assertFailsWith(precheck.check(dir, "chatml", LIMIT), "unsupported architecture");
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"llama\"}");
        assertFailsWith(precheck.check(dir, "chatml", LIMIT), "unsupported architecture");
        for (String ok : new String[]{"LlamaForCausalLM", "Qwen2ForCausalLM", "MistralForCausalLM"}) {
            Files.writeString(dir.resolve("config.json"), "{\"architectures\": [\"" + ok + "\"]}");
            assertTrue(precheck.check(dir, "chatml", LIMIT).passed(), ok);
        }
    }

    @Test
    void tokenizerMissing() throws IOException {
        Files.delete(dir.resolve("tokenizer.json"));
        assertFailsWith(precheck.check(dir, "chatml", LIMIT), "tokenizer.json missing");
    }

    @Test
    void chatTemplateMustBeKnown() {
        assertFailsWith(precheck.check(dir, "harmony", LIMIT), "unknown chat template");
        assertFailsWith(precheck.check(dir, null, LIMIT), "unknown chat template");
        for (String t : new String[]{"chatml", "vicuna", "zephyr", "mistral", "alpaca", "llama2", "llama3", "llama3dot1", "gemma2", "qwen2dot5"}) {
            assertTrue(precheck.check(dir, t, LIMIT).passed(), t);
        }
    }

    @Test
    void indexNamingMissingShardFails() throws IOException {
        Files.delete(dir.resolve("model-00002-of-00002.safetensors"));
        assertFailsWith(precheck.check(dir, "chatml", LIMIT), "model-00002-of-00002.safetensors");
    }

    @Test
    void reportsEveryFailureAtOnce() throws IOException {
        Files.delete(dir.resolve("tokenizer.json"));
        Files.write(dir.resolve("pytorch_model.bin"), new byte[]{1});
        PrecheckResult result = precheck.check(dir, "nope", LIMIT);
        assertEquals(3, result.failures().size(), result.reason());
        assertTrue(result.failures().stream().allMatch(f -> f.category() == FailureCategory.MINER));
    }

    @Test
    void limitMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> precheck.check(dir, "chatml", 0));
    }
}
