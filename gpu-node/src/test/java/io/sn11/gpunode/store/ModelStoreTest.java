package io.sn11.gpunode.store;

import io.sn11.cluster.domain.FailureCategory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelStoreTest {
    @TempDir
    Path tmp;

    @Test
    void layoutIsNamespaceNameRevision() throws Exception {
        ModelStore store = new ModelStore(tmp.resolve("store"));
        Path root = tmp.resolve("store").toAbsolutePath();
        assertEquals(root.resolve("miner1").resolve("tiny").resolve("v1.0"), store.pathFor("miner1", "tiny", "v1.0"));
        String commit = "0123456789abcdef0123456789abcdef01234567";
        assertEquals(root.resolve("Org.AI").resolve("My_model-7B.v2").resolve(commit), store.pathFor("Org.AI", "My_model-7B.v2", commit));
    }

    @Test
    void defaultRevisionIsMain() throws Exception {
        ModelStore store = new ModelStore(tmp);
        Path main = store.pathFor("ns", "name", "main");
        assertEquals(main, store.pathFor("ns", "name", null));
        assertEquals(main, store.pathFor("ns", "name", ""));
        assertEquals("main", ModelStore.revisionOrDefault(null));
    }

    @Test
    void revisionWithSlashIsOneFolder() throws Exception {
        ModelStore store = new ModelStore(tmp);
        Path p = store.pathFor("ns", "name", "refs/pr/1");
        assertEquals(tmp.toAbsolutePath().resolve("ns").resolve("name").resolve("refs%2Fpr%2F1"), p);
    }

    @Test
    void findSeesOnlyPresentFolders() throws Exception {
        ModelStore store = new ModelStore(tmp);
        assertTrue(store.find("ns", "name", null).isEmpty());
        Files.createDirectories(store.pathFor("ns", "name", "main"));
        assertEquals(store.pathFor("ns", "name", "main"), store.find("ns", "name", null).orElseThrow());
        assertTrue(store.find("ns", "name", "other").isEmpty());
        assertTrue(store.delete("ns", "name", "main"));
        assertTrue(store.find("ns", "name", "main").isEmpty());
    }

    @ParameterizedTest
    @ValueSource(strings = {"..", ".", "../etc", "a/b", "a\\b", "-lead", ".hidden", "a..b", "", " ", "x y", "a%2F..",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})
    void invalidNamespaceOrNameRefused(String bad) {
        ModelStore store = new ModelStore(tmp);
        StoreException e = assertThrows(StoreException.class, () -> store.pathFor(bad, "name", "main"));
        assertEquals(FailureCategory.MINER, e.category());
        assertThrows(StoreException.class, () -> store.pathFor("ns", bad, "main"));
        assertThrows(StoreException.class, () -> store.find("ns", bad, "main"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"../../../etc", "main/../../..", "..", ".", "/abs", "a//b", "a/", "a/.git", "x:y", "a b",
            "%2e%2e", "\u2026"})
    void traversalThroughRevisionRefused(String bad) throws Exception {
        Path root = tmp.resolve("store");
        ModelStore store = new ModelStore(root);
        StoreException e = assertThrows(StoreException.class, () -> store.pathFor("ns", "name", bad));
        assertEquals(FailureCategory.MINER, e.category());
        assertTrue(e.getMessage().contains("invalid revision"), e.getMessage());
        assertThrows(StoreException.class, () -> store.find("ns", "name", bad));
        assertThrows(StoreException.class, () -> store.delete("ns", "name", bad));
    }

    @Test
    void traversalCannotTouchFilesOutsideTheStore() throws Exception {
        Path outside = tmp.resolve("secret");
        Files.createDirectories(outside);
        ModelStore store = new ModelStore(tmp.resolve("store"));
        assertThrows(StoreException.class, () -> store.delete("..", "..", "secret"));
        assertThrows(StoreException.class, () -> store.delete("ns", "..", "../../secret"));
        assertTrue(Files.isDirectory(outside));
    }

    @Test
    void validRevisionsAccepted() throws Exception {
        ModelStore store = new ModelStore(tmp);
        for (String ok : new String[]{"main", "v1.0", "refs/pr/12", "release-2024_01", "0123456789abcdef0123456789abcdef01234567"}) {
            assertTrue(store.pathFor("ns", "name", ok).startsWith(store.root()), ok);
        }
    }

    @Test
    void ensureFetchesOnceMovesIntoPlaceAndPassesPrecheck() throws Exception {
        byte[] weights = new byte[10_000];
        new Random(3).nextBytes(weights);
        String commit = "fedcba9876543210fedcba9876543210fedcba98";
        try (FakeHub hub = new FakeHub()) {
            hub.repo("miner2", "rp-7b", commit)
                    .file("config.json", "{\"architectures\":[\"Qwen2ForCausalLM\"]}")
                    .file("tokenizer.json", "{}")
                    .lfsFile("model.safetensors", weights);
            HubClient client = new HubClient(HubClient.Config.builder().endpoint(hub.endpoint())
                    .initialBackoff(Duration.ofMillis(10)).build());
            ModelStore store = new ModelStore(tmp.resolve("store"));

            Path dir = store.ensure(client, "miner2", "rp-7b", null, null);
            assertEquals(store.pathFor("miner2", "rp-7b", "main"), dir);
            assertEquals(dir, store.find("miner2", "rp-7b", "main").orElseThrow());
            try (Stream<Path> left = Files.walk(store.root().resolve(".incoming"))) {
                assertTrue(left.noneMatch(Files::isRegularFile), "nothing left under .incoming");
            }
            int requests = hub.requests.size();
            assertEquals(dir, store.ensure(client, "miner2", "rp-7b", "main", null));
            assertEquals(requests, hub.requests.size(), "a model in the store is not fetched again");

            PrecheckResult result = new Precheck().check(dir, "main", "qwen2dot5", Precheck.DEFAULT_MAX_BYTES);
            assertTrue(result.passed(), result.reason());
            assertEquals(weights.length, result.weightBytes());
        }
    }

    @Test
    void failedFetchLeavesNoModelInTheStore() throws Exception {
        try (FakeHub hub = new FakeHub()) {
            hub.repo("miner2", "bad", "fedcba9876543210fedcba9876543210fedcba98")
                    .file("config.json", "{}")
                    .lfsFile("model.safetensors", new byte[100]);
            hub.servedInstead.put("model.safetensors", new byte[100 + 0].clone());
            hub.servedInstead.get("model.safetensors")[0] = 1;
            HubClient client = new HubClient(HubClient.Config.builder().endpoint(hub.endpoint()).build());
            ModelStore store = new ModelStore(tmp.resolve("store"));
            StoreException e = assertThrows(StoreException.class, () -> store.ensure(client, "miner2", "bad", "main", null));
            assertEquals(FailureCategory.MINER, e.category());
            assertFalse(store.find("miner2", "bad", "main").isPresent());
        }
    }
    @Test
    void ensureRecordsTheFetchOutsideTheModelFolder() throws Exception {
        byte[] weights = new byte[10_000];
        new Random(5).nextBytes(weights);
        try (FakeHub hub = new FakeHub()) {
            hub.repo("miner2", "rp-7b", "fedcba9876543210fedcba9876543210fedcba98")
                    .file("config.json", "{\"architectures\":[\"Qwen2ForCausalLM\"]}")
                    .file("tokenizer.json", "{}")
                    .lfsFile("model.safetensors", weights)
                    // files at the record's names, inside the repository: never the record
                    .file("main.json", "{\"content_hash\":\"forged\"}")
                    .file(".fetched/miner2/rp-7b/main.json", "{\"content_hash\":\"forged\"}");
            ModelStore store = new ModelStore(tmp.resolve("store"));
            Path dir = store.ensure(new HubClient(HubClient.Config.builder().endpoint(hub.endpoint()).build()), "miner2", "rp-7b", "main", null);

            Path recordFile = store.recordPathFor("miner2", "rp-7b", "main");
            assertEquals(store.root().resolve(".fetched/miner2/rp-7b/main.json"), recordFile);
            assertFalse(recordFile.startsWith(dir), "the record lies outside the model folder");
            FetchRecord record = store.record("miner2", "rp-7b", "main").orElseThrow();
            assertEquals(FetchRecord.Origin.FETCHED, record.origin());
            assertEquals(FetchRecord.digestsOf(dir), record.files());
            assertEquals(FetchRecordTest.sha256(weights), record.files().get("model.safetensors").sha256());
            assertEquals(new Precheck().check(dir, "qwen2dot5", Precheck.DEFAULT_MAX_BYTES).contentHash(), record.contentHash());
            assertEquals(record, store.recordOrFirstUse("miner2", "rp-7b", "main"), "a fetched model is not recorded again");
        }
    }

    /** A folder placed by hand is recorded when first used, and that record holds: a file changed later does not pass. */
    @Test
    void aFolderPlacedByHandIsTrustedOnFirstUseOnly() throws Exception {
        ModelStore store = new ModelStore(tmp.resolve("store"));
        Path dir = store.pathFor("acme", "tiny", "main");
        io.sn11.engine.tiny.TinyModels.write(dir, io.sn11.engine.tiny.TinyModels.Arch.QWEN2, io.sn11.engine.safetensors.DType.BF16, 2);
        String forged = "{\"content_hash\":\"forged\",\"files\":{},\"origin\":\"FETCHED\",\"recorded_at\":\"then\"}";
        Files.writeString(dir.resolve("main.json"), forged);
        Files.createDirectories(dir.resolve(".fetched/acme/tiny"));
        Files.writeString(dir.resolve(".fetched/acme/tiny/main.json"), forged);
        assertTrue(store.record("acme", "tiny", "main").isEmpty());

        FetchRecord firstUse = store.recordOrFirstUse("acme", "tiny", "main");
        assertEquals(FetchRecord.Origin.FIRST_USE, firstUse.origin());
        assertEquals(FetchRecord.digestsOf(dir), firstUse.files());
        Files.writeString(dir.resolve("config.json"), Files.readString(dir.resolve("config.json")).replace("{", "{\"x\": 1, "));
        assertEquals(firstUse, store.recordOrFirstUse("acme", "tiny", "main"));
        assertEquals(List.of("config.json"), firstUse.differences(FetchRecord.digestsOf(dir)).stream().map(d -> d.substring(0, d.indexOf(':'))).toList());
    }

    @Test
    void deletingAModelDeletesItsRecord() throws Exception {
        ModelStore store = new ModelStore(tmp.resolve("store"));
        io.sn11.engine.tiny.TinyModels.write(store.pathFor("acme", "tiny", "main"), io.sn11.engine.tiny.TinyModels.Arch.LLAMA,
                io.sn11.engine.safetensors.DType.BF16, 2);
        store.recordOrFirstUse("acme", "tiny", "main");
        assertTrue(Files.isRegularFile(store.recordPathFor("acme", "tiny", "main")));
        assertTrue(store.delete("acme", "tiny", "main"));
        assertFalse(Files.exists(store.recordPathFor("acme", "tiny", "main")));
        assertTrue(store.record("acme", "tiny", "main").isEmpty());
    }

    @Test
    void demoModelsAreRecordedAsWritten() throws Exception {
        ModelStore store = new ModelStore(tmp.resolve("store"));
        for (String repository : DemoModels.ensure(store)) {
            String name = repository.substring(repository.indexOf('/') + 1);
            FetchRecord record = store.record(DemoModels.NAMESPACE, name, "main").orElseThrow();
            assertEquals(FetchRecord.Origin.DEMO, record.origin());
            assertEquals(FetchRecord.digestsOf(store.pathFor(DemoModels.NAMESPACE, name, "main")), record.files(), repository);
        }
    }
}
