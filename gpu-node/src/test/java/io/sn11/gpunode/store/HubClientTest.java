package io.sn11.gpunode.store;

import io.sn11.cluster.domain.FailureCategory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HubClientTest {
    static final String NS = "miner1";
    static final String NAME = "tiny-roleplay";
    static final String COMMIT = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
    static final String CONFIG = "{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":8}";

    @TempDir
    Path tmp;
    FakeHub hub;
    byte[] weights;
    byte[] tokenizer;

    @BeforeEach
    void setUp() throws IOException {
        hub = new FakeHub();
        weights = new byte[48 * 1024 + 17];
        new Random(11).nextBytes(weights);
        tokenizer = "{\"model\":{\"type\":\"BPE\"}}".getBytes();
        hub.repo(NS, NAME, COMMIT)
                .file("config.json", CONFIG)
                .file("generation_config.json", "{\"temperature\":0.7}")
                .file("tokenizer.json", tokenizer)
                .file("tokenizer_config.json", "{}")
                .file("README.md", "# tiny")
                .file(".gitattributes", "*.safetensors filter=lfs")
                .lfsFile("model.safetensors", weights)
                .lfsFile("original/consolidated.00.pth", new byte[]{1, 2, 3})
                .file("extra/notes.safetensors", "not fetched: not at the root");
    }

    @AfterEach
    void tearDown() {
        hub.close();
    }

    HubClient.Config.Builder config() {
        return HubClient.Config.builder()
                .endpoint(hub.endpoint())
                .initialBackoff(Duration.ofMillis(10))
                .maxBackoff(Duration.ofMillis(50))
                .maxRetries(2)
                .connectTimeout(Duration.ofSeconds(2))
                .requestTimeout(Duration.ofSeconds(5));
    }

    HubClient client() {
        return new HubClient(config().build());
    }

    @Test
    void fetchesOnlyWhatEvaluationNeedsAndVerifiesIt() throws Exception {
        Path dir = tmp.resolve("model");
        List<long[]> progress = new ArrayList<>();
        HubClient.FetchResult result = client().fetch(NS, NAME, null, dir, (done, total) -> progress.add(new long[]{done, total}));

        assertEquals(COMMIT, result.commit());
        assertArrayEquals(weights, Files.readAllBytes(dir.resolve("model.safetensors")));
        assertArrayEquals(tokenizer, Files.readAllBytes(dir.resolve("tokenizer.json")));
        assertEquals(CONFIG, Files.readString(dir.resolve("config.json")));
        assertTrue(Files.exists(dir.resolve("generation_config.json")));
        assertTrue(Files.exists(dir.resolve("tokenizer_config.json")));
        assertFalse(Files.exists(dir.resolve("README.md")), "README is not needed");
        assertFalse(Files.exists(dir.resolve("original")), "sub-folders are not fetched");
        assertFalse(Files.exists(dir.resolve("extra")), "sub-folders are not fetched");
        try (Stream<Path> files = Files.list(dir)) {
            assertTrue(files.noneMatch(p -> p.toString().endsWith(".part")), "no .part left");
        }
        assertEquals(COMMIT, Files.readString(dir.resolve(HubClient.COMMIT_FILE)).trim());

        long expected = weights.length + tokenizer.length + CONFIG.length() + "{\"temperature\":0.7}".length() + 2;
        assertEquals(expected, result.totalBytes());
        assertEquals(expected, result.downloadedBytes());
        assertEquals(5, result.files().size());
        // files are read at the resolved commit, not at the moving branch
        assertTrue(hub.downloads().stream().allMatch(r -> r.rawPath().contains("/resolve/" + COMMIT + "/")));
        assertEquals(5, hub.downloads().size());
        // progress: starts at 0, never goes back, ends at total/total
        assertEquals(0, progress.get(0)[0]);
        long[] last = progress.get(progress.size() - 1);
        assertEquals(expected, last[0]);
        assertEquals(expected, last[1]);
        for (int i = 1; i < progress.size(); i++) {
            assertTrue(progress.get(i)[0] >= progress.get(i - 1)[0], "progress is monotonic");
        }

        // a second fetch into the same folder finds everything complete and downloads nothing
        int before = hub.downloads().size();
        HubClient.FetchResult again = client().fetch(NS, NAME, "main", dir, null);
        assertEquals(0, again.downloadedBytes());
        assertEquals(before, hub.downloads().size());
    }

    @Test
    void listingGivesSizesAndLfsHashes() throws Exception {
        hub.treePageSize = 3; // the tree answer is paged with Link: rel="next"
        HubClient.RepoListing listing = client().list(NS, NAME, "main");
        assertEquals(COMMIT, listing.commit());
        HubClient.RemoteFile w = listing.file("model.safetensors").orElseThrow();
        assertEquals(weights.length, w.size());
        assertEquals(FakeHub.sha256(weights), w.sha256());
        assertTrue(w.isLfs());
        HubClient.RemoteFile t = listing.file("tokenizer.json").orElseThrow();
        assertEquals(tokenizer.length, t.size());
        assertNull(t.sha256());
        assertEquals(FakeHub.gitOid(tokenizer), t.gitOid());
        assertTrue(listing.file("original/consolidated.00.pth").isPresent());
        assertTrue(listing.pickleFiles().isEmpty(), "a pickle in a sub-folder does not count");
        assertEquals(List.of("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors"),
                listing.neededFiles().stream().map(HubClient.RemoteFile::path).toList());
        assertTrue(hub.count("/tree/" + COMMIT) >= 3, "all pages were read");
    }

    @Test
    void resumesPartialDownloadWithRange() throws Exception {
        Path dir = tmp.resolve("model");
        Files.createDirectories(dir);
        int have = 20_000;
        Files.write(dir.resolve("model.safetensors.part"), java.util.Arrays.copyOf(weights, have));

        HubClient.FetchResult result = client().fetch(NS, NAME, "main", dir, null);

        assertArrayEquals(weights, Files.readAllBytes(dir.resolve("model.safetensors")));
        FakeHub.Request req = hub.downloads().stream().filter(r -> r.rawPath().endsWith("/model.safetensors")).findFirst().orElseThrow();
        assertEquals("bytes=" + have + "-", req.range());
        assertEquals(206, req.status());
        assertEquals(result.totalBytes() - have, result.downloadedBytes(), "only the missing bytes were transferred");
    }

    @Test
    void restartsWhenServerIgnoresRange() throws Exception {
        hub.honourRange = false;
        Path dir = tmp.resolve("model");
        Files.createDirectories(dir);
        // a .part whose bytes are wrong: a server ignoring Range must not be appended to it
        byte[] junk = new byte[20_000];
        java.util.Arrays.fill(junk, (byte) 7);
        Files.write(dir.resolve("model.safetensors.part"), junk);

        client().fetch(NS, NAME, "main", dir, null);

        assertArrayEquals(weights, Files.readAllBytes(dir.resolve("model.safetensors")));
        FakeHub.Request req = hub.downloads().stream().filter(r -> r.rawPath().endsWith("/model.safetensors")).findFirst().orElseThrow();
        assertEquals("bytes=20000-", req.range());
        assertEquals(200, req.status());
        assertFalse(Files.exists(dir.resolve("model.safetensors.part")));
    }

    @Test
    void hashMismatchDeletesTheFileAndBlamesTheMiner() throws Exception {
        byte[] tampered = weights.clone();
        tampered[100] ^= 1;
        hub.servedInstead.put("model.safetensors", tampered);
        Path dir = tmp.resolve("model");

        StoreException e = assertThrows(StoreException.class, () -> client().fetch(NS, NAME, "main", dir, null));

        assertEquals(FailureCategory.MINER, e.category());
        assertTrue(e.getMessage().contains("model.safetensors") && e.getMessage().contains("SHA-256"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("model.safetensors")));
        assertFalse(Files.exists(dir.resolve("model.safetensors.part")));
    }

    @Test
    void mismatchAfterResumeIsRetriedOnceFromScratch() throws Exception {
        Path dir = tmp.resolve("model");
        Files.createDirectories(dir);
        byte[] stale = java.util.Arrays.copyOf(weights, 10_000);
        stale[5] ^= 1; // a corrupt .part: the resumed file cannot verify
        Files.write(dir.resolve("model.safetensors.part"), stale);

        client().fetch(NS, NAME, "main", dir, null);

        assertArrayEquals(weights, Files.readAllBytes(dir.resolve("model.safetensors")));
        List<FakeHub.Request> w = hub.downloads().stream().filter(r -> r.rawPath().endsWith("/model.safetensors")).toList();
        assertEquals(2, w.size());
        assertEquals("bytes=10000-", w.get(0).range());
        assertNull(w.get(1).range());
    }

    @Test
    void sizeLimitRefusedBeforeAnyDownload() {
        HubClient client = new HubClient(config().maxTotalBytes(weights.length).build());
        StoreException e = assertThrows(StoreException.class, () -> client.fetch(NS, NAME, "main", tmp.resolve("m"), null));
        assertEquals(FailureCategory.MINER, e.category());
        assertTrue(e.getMessage().contains("too large"), e.getMessage());
        assertEquals(0, hub.downloads().size(), "no file was requested");
        assertTrue(hub.count("/api/models/") >= 2, "only the listings were read");
    }

    @Test
    void missingRepositoryOrRevisionIsMinerFailure() {
        StoreException e = assertThrows(StoreException.class, () -> client().fetch(NS, "no-such-repo", "main", tmp.resolve("m"), null));
        assertEquals(FailureCategory.MINER, e.category());
        assertEquals(404, e.httpStatus());
        assertTrue(e.getMessage().contains("RepoNotFound"), e.getMessage());

        StoreException r = assertThrows(StoreException.class, () -> client().list(NS, NAME, "v9"));
        assertEquals(FailureCategory.MINER, r.category());
        assertEquals(404, r.httpStatus());
        assertEquals(2, hub.requests.size(), "a 404 is not retried");
    }

    @Test
    void gatedRepositoryIsMinerFailure() {
        hub.fail("/revision/", 1, 401, Map.of("X-Error-Code", "GatedRepo"));
        StoreException e = assertThrows(StoreException.class, () -> client().list(NS, NAME, "main"));
        assertEquals(FailureCategory.MINER, e.category());
        assertEquals(401, e.httpStatus());
        assertTrue(e.getMessage().contains("gated"), e.getMessage());
    }

    @Test
    void serverErrorIsRetried() throws Exception {
        hub.fail("/revision/", 1, 500, Map.of());
        hub.fail("/resolve/", 1, 503, Map.of());
        Path dir = tmp.resolve("model");
        client().fetch(NS, NAME, "main", dir, null);
        assertArrayEquals(weights, Files.readAllBytes(dir.resolve("model.safetensors")));
        assertEquals(2, hub.count("/revision/"));
    }

    @Test
    void persistentServerErrorIsInfrastructureFailure() {
        hub.fail("/revision/", 100, 502, Map.of());
        StoreException e = assertThrows(StoreException.class, () -> client().list(NS, NAME, "main"));
        assertEquals(FailureCategory.INFRASTRUCTURE, e.category());
        assertEquals(502, e.httpStatus());
        assertEquals(3, hub.count("/revision/"), "first attempt and maxRetries=2 retries");
    }

    @Test
    void rateLimitHonoursRetryAfter() throws Exception {
        hub.fail("/revision/", 1, 429, Map.of("Retry-After", "1"));
        long start = System.nanoTime();
        HubClient.RepoListing listing = client().list(NS, NAME, "main");
        long elapsedMs = (System.nanoTime() - start) / 1_000_000;
        assertEquals(COMMIT, listing.commit());
        assertTrue(elapsedMs >= 950, "waited for Retry-After, not the 10 ms backoff: " + elapsedMs + " ms");
        assertEquals(2, hub.count("/revision/"));
    }

    @Test
    void connectionRefusedIsInfrastructureFailure() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        HubClient client = new HubClient(config().endpoint(URI.create("http://127.0.0.1:" + port)).build());
        StoreException e = assertThrows(StoreException.class, () -> client.fetch(NS, NAME, "main", tmp.resolve("m"), null));
        assertEquals(FailureCategory.INFRASTRUCTURE, e.category());
        assertTrue(e.getMessage().contains("3 attempt"), e.getMessage());
    }

    @Test
    void pickleWeightsAreReportedAndNeverDownloaded() throws Exception {
        hub.repo(NS, "pickled", COMMIT)
                .file("config.json", CONFIG)
                .file("tokenizer.json", tokenizer)
                .lfsFile("model.safetensors", weights)
                .lfsFile("pytorch_model.bin", new byte[]{9, 9, 9})
                .lfsFile("training_args.bin", new byte[]{8});
        HubClient.RepoListing listing = client().list(NS, "pickled", "main");
        assertEquals(List.of("pytorch_model.bin", "training_args.bin"),
                listing.pickleFiles().stream().map(HubClient.RemoteFile::path).sorted().toList());

        StoreException e = assertThrows(StoreException.class, () -> client().fetch(NS, "pickled", "main", tmp.resolve("m"), null));
        assertEquals(FailureCategory.MINER, e.category());
        assertTrue(e.getMessage().contains("pytorch_model.bin") && e.getMessage().contains("pickle"), e.getMessage());
        assertEquals(0, hub.downloads().size());
    }

    @Test
    void tokenIsSentToTheHubButNotToTheCdn() throws Exception {
        hub.redirectLfsToCdn = true;
        HubClient client = new HubClient(HubClient.Config.fromEnvironment(Map.of("HF_TOKEN", "hf_secret123"))
                .endpoint(hub.endpoint()).build());
        assertFalse(client.config().toString().contains("hf_secret123"), "the token is never shown");
        Path dir = tmp.resolve("model");
        client.fetch(NS, NAME, "main", dir, null);

        assertArrayEquals(weights, Files.readAllBytes(dir.resolve("model.safetensors")));
        for (FakeHub.Request r : hub.requests) {
            if (r.rawPath().startsWith("/cdn/")) {
                assertNull(r.authorization(), "no token to another origin");
            } else {
                assertEquals("Bearer hf_secret123", r.authorization(), r.rawPath());
            }
        }
        assertEquals(1, hub.count("/cdn/"), "the LFS file came through the redirect");
    }

    @Test
    void noTokenNoAuthorizationHeader() throws Exception {
        HubClient client = new HubClient(config().token(null).build());
        client.list(NS, NAME, "main");
        assertTrue(hub.requests.stream().allMatch(r -> r.authorization() == null));
        HubClient withSetting = new HubClient(config().token("hf_setting").build());
        withSetting.list(NS, NAME, "main");
        assertEquals("Bearer hf_setting", hub.requests.get(hub.requests.size() - 1).authorization());
    }

    @Test
    void revisionWithSlashIsOnePathSegment() throws Exception {
        hub.repo(NS, "pr", COMMIT).file("config.json", CONFIG).ref("refs/pr/1");
        HubClient.RepoListing listing = client().list(NS, "pr", "refs/pr/1");
        assertEquals(COMMIT, listing.commit());
        assertTrue(hub.requests.get(0).rawPath().endsWith("/revision/refs%2Fpr%2F1"), hub.requests.get(0).rawPath());
    }

    @Test
    void stalledBodyIsCutAndResumed() throws Exception {
        hub.stallOnce("model.safetensors", 30_000, 3_000);
        HubClient client = new HubClient(config().readTimeout(Duration.ofMillis(300)).build());
        Path dir = tmp.resolve("model");
        long start = System.nanoTime();
        client.fetch(NS, NAME, "main", dir, null);
        long elapsedMs = (System.nanoTime() - start) / 1_000_000;

        assertArrayEquals(weights, Files.readAllBytes(dir.resolve("model.safetensors")));
        assertTrue(elapsedMs < 2_500, "did not wait for the stalled server: " + elapsedMs + " ms");
        List<FakeHub.Request> w = hub.downloads().stream().filter(r -> r.rawPath().endsWith("/model.safetensors")).toList();
        assertEquals(2, w.size());
        assertTrue(w.get(1).range() != null && w.get(1).range().startsWith("bytes="), "the second attempt resumed");
        assertFalse(Thread.currentThread().isInterrupted(), "the watchdog's interrupt does not leak to the caller");
    }

    @Test
    void invalidNamesAreRefusedWithoutARequest() {
        StoreException e = assertThrows(StoreException.class, () -> client().list("..", NAME, "main"));
        assertEquals(FailureCategory.MINER, e.category());
        assertThrows(StoreException.class, () -> client().list(NS, NAME, "../../etc"));
        assertEquals(0, hub.requests.size());
    }
}
