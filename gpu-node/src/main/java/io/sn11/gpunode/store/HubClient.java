package io.sn11.gpunode.store;

import io.sn11.cluster.domain.FailureCategory;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client of the Hugging Face Hub that fetches what evaluation needs of a model repository.
 *
 * <h2>What of the Hub's HTTP protocol this relies on</h2>
 * <ul>
 *   <li>{@code GET {endpoint}/api/models/{namespace}/{name}/revision/{revision}} answers JSON with
 *       {@code sha} (the commit the revision points at) and {@code siblings: [{rfilename}]}. The
 *       revision is percent-encoded as one path segment ({@code refs/pr/1} becomes
 *       {@code refs%2Fpr%2F1}), as {@code huggingface_hub} does.</li>
 *   <li>{@code GET {endpoint}/api/models/{namespace}/{name}/tree/{commit}?recursive=true} answers a
 *       JSON array of {@code {type: "file"|"directory", path, size, oid, lfs?: {oid, size}}}:
 *       {@code size} is the file size, {@code lfs.oid} the SHA-256 (hex) of an LFS file's content,
 *       {@code oid} the git blob id (SHA-1 of {@code "blob <size>\0" + content}) of a file kept in
 *       git itself. Long listings are paged with a {@code Link: <url>; rel="next"} header.</li>
 *   <li>{@code GET {endpoint}/{namespace}/{name}/resolve/{commit}/{path}} answers the file's bytes,
 *       possibly after redirects (LFS files go to a CDN with a signed URL), and honours
 *       {@code Range: bytes=N-} with 206.</li>
 *   <li>Errors: 401/403 (gated, private, bad token; the Hub also answers 401 for a repository that
 *       does not exist when asked without a token), 404, 429 (rate limit, with {@code Retry-After}),
 *       5xx. {@code X-Error-Code} / {@code X-Error-Message} headers are quoted when present.</li>
 * </ul>
 *
 * <h2>Decisions</h2>
 * <ul>
 *   <li>The revision is resolved to its commit once; the tree and every file are read at that
 *       commit, so a branch that moves during the fetch cannot mix two versions. The commit is
 *       written to {@value #COMMIT_FILE} in the model folder.</li>
 *   <li>Only root-level files evaluation needs are fetched ({@link ModelFiles}). A repository with a
 *       root-level pickle weight file fails (MINER) before anything is downloaded.</li>
 *   <li>The size limit covers the sum of the files to fetch, checked before any download.</li>
 *   <li>Every file is checked: its size, and its SHA-256 against {@code lfs.oid} for LFS files (the
 *       weights) or its git blob id for small files kept in git. A mismatch after a resumed download
 *       is retried once from scratch; a mismatch of a fresh download fails (MINER).</li>
 *   <li>Redirects are followed by hand: the {@code Authorization} header goes only to the endpoint's
 *       own origin, never to the CDN a redirect points at (signed URLs refuse it, and it must not leak).</li>
 *   <li>HTTP/1.1: robust for many-GB bodies. Bodies are written to the {@code .part} file as they
 *       arrive; one that delivers nothing for the read timeout is cancelled and resumed on the
 *       next attempt. The progress listener is called from the HTTP client's threads.</li>
 *   <li>429, 5xx, I/O errors and timeouts are retried {@code maxRetries} times with exponential
 *       backoff, or after {@code Retry-After} (seconds or HTTP date, capped) when the server sends it.</li>
 * </ul>
 */
public final class HubClient {
    private static final Logger log = LoggerFactory.getLogger(HubClient.class);

    public static final URI DEFAULT_ENDPOINT = URI.create("https://huggingface.co");
    /** Size limit of a model: 72 GiB, as the subnet's model size score. */
    public static final long DEFAULT_MAX_TOTAL_BYTES = 72L * 1024 * 1024 * 1024;
    /** File in a fetched model folder holding the commit it was fetched at. */
    public static final String COMMIT_FILE = ".sn11-commit";

    private static final String PART_SUFFIX = ".part";
    private static final int BUFFER_SIZE = 1 << 20;
    private static final long PROGRESS_STEP = 1 << 20;
    private static final int MAX_REDIRECTS = 10;
    private static final Pattern LINK_NEXT = Pattern.compile("<([^>]+)>\\s*;\\s*rel=\"?next\"?");
    private static final Pattern CONTENT_RANGE_START = Pattern.compile("bytes\\s+(\\d+)-");

    /** Receives the progress of a fetch: bytes present so far out of the total to fetch. */
    @FunctionalInterface
    public interface ProgressListener {
        void onProgress(long bytesDone, long bytesTotal);

        ProgressListener NONE = (done, total) -> { };
    }

    /**
     * A file of a repository at a commit.
     *
     * @param path   path in the repository ({@code /}-separated)
     * @param size   size in bytes
     * @param sha256 SHA-256 (hex) of the content for an LFS file, else null
     * @param gitOid git blob id (hex SHA-1) for a file kept in git, else null
     */
    public record RemoteFile(String path, long size, String sha256, String gitOid) {
        public boolean isLfs() {
            return sha256 != null;
        }
    }

    /** A repository's files at a resolved commit. */
    public record RepoListing(String namespace, String name, String revision, String commit, List<RemoteFile> files) {
        public RepoListing {
            files = List.copyOf(files);
        }

        /** Root-level files evaluation needs (what {@link #fetch} downloads). */
        public List<RemoteFile> neededFiles() {
            return files.stream().filter(f -> ModelFiles.isRootLevel(f.path()) && ModelFiles.isNeeded(f.path())).toList();
        }

        /** Root-level pickle weight files: their presence fails the submission. */
        public List<RemoteFile> pickleFiles() {
            return files.stream().filter(f -> ModelFiles.isRootLevel(f.path()) && ModelFiles.isPickle(f.path())).toList();
        }

        /** Bytes of {@link #neededFiles()}. */
        public long neededBytes() {
            return neededFiles().stream().mapToLong(RemoteFile::size).sum();
        }

        public Optional<RemoteFile> file(String path) {
            return files.stream().filter(f -> f.path().equals(path)).findFirst();
        }
    }

    /**
     * The outcome of a fetch.
     *
     * @param commit          the commit the files were read at
     * @param dir             the folder holding them
     * @param files           the files fetched (or found complete from an earlier attempt)
     * @param totalBytes      their total size
     * @param downloadedBytes bytes actually transferred by this call
     */
    public record FetchResult(String commit, Path dir, List<RemoteFile> files, long totalBytes, long downloadedBytes) {
    }

    /** Settings; build with {@link #builder()} or {@link #fromEnvironment(Map)}. */
    public static final class Config {
        final URI endpoint;
        final String token;
        final Duration connectTimeout;
        final Duration requestTimeout;
        final Duration readTimeout;
        final int maxRetries;
        final Duration initialBackoff;
        final Duration maxBackoff;
        final Duration maxRetryAfter;
        final long maxTotalBytes;
        final String userAgent;

        private Config(Builder b) {
            String e = b.endpoint.toString();
            this.endpoint = URI.create(e.endsWith("/") ? e.substring(0, e.length() - 1) : e);
            this.token = b.token == null || b.token.isBlank() ? null : b.token.trim();
            this.connectTimeout = b.connectTimeout;
            this.requestTimeout = b.requestTimeout;
            this.readTimeout = b.readTimeout;
            this.maxRetries = b.maxRetries;
            this.initialBackoff = b.initialBackoff;
            this.maxBackoff = b.maxBackoff;
            this.maxRetryAfter = b.maxRetryAfter;
            this.maxTotalBytes = b.maxTotalBytes;
            this.userAgent = b.userAgent;
        }

        public static Builder builder() {
            return new Builder();
        }

        /** Defaults, with the token from {@code HF_TOKEN} and the endpoint from {@code HF_ENDPOINT} when set. */
        public static Builder fromEnvironment(Map<String, String> env) {
            Builder b = new Builder();
            String endpoint = env.get("HF_ENDPOINT");
            if (endpoint != null && !endpoint.isBlank()) {
                b.endpoint(URI.create(endpoint.trim()));
            }
            return b.token(env.get("HF_TOKEN"));
        }

        public URI endpoint() {
            return endpoint;
        }

        public boolean hasToken() {
            return token != null;
        }

        public long maxTotalBytes() {
            return maxTotalBytes;
        }

        @Override
        public String toString() { // never shows the token
            return "HubClient.Config[endpoint=" + endpoint + ", token=" + (token == null ? "none" : "***")
                    + ", connectTimeout=" + connectTimeout + ", requestTimeout=" + requestTimeout
                    + ", readTimeout=" + readTimeout + ", maxRetries=" + maxRetries
                    + ", maxTotalBytes=" + maxTotalBytes + "]";
        }

        public static final class Builder {
            private URI endpoint = DEFAULT_ENDPOINT;
            private String token;
            private Duration connectTimeout = Duration.ofSeconds(10);
            private Duration requestTimeout = Duration.ofSeconds(60);
            private Duration readTimeout = Duration.ofSeconds(60);
            private int maxRetries = 4;
            private Duration initialBackoff = Duration.ofSeconds(1);
            private Duration maxBackoff = Duration.ofSeconds(30);
            private Duration maxRetryAfter = Duration.ofSeconds(120);
            private long maxTotalBytes = DEFAULT_MAX_TOTAL_BYTES;
            private String userAgent = "sn11-gpu-node/0.1";

            public Builder endpoint(URI v) { this.endpoint = Objects.requireNonNull(v); return this; }
            public Builder token(String v) { this.token = v; return this; }
            /** Time to establish a connection. */
            public Builder connectTimeout(Duration v) { this.connectTimeout = positive(v); return this; }
            /** Time until the response headers arrive (and the whole answer of an API call). */
            public Builder requestTimeout(Duration v) { this.requestTimeout = positive(v); return this; }
            /** Longest pause within a download body before it is cut and resumed. */
            public Builder readTimeout(Duration v) { this.readTimeout = positive(v); return this; }
            /** Retries after the first attempt for 429, 5xx, I/O errors and timeouts. */
            public Builder maxRetries(int v) { if (v < 0) throw new IllegalArgumentException("maxRetries < 0"); this.maxRetries = v; return this; }
            public Builder initialBackoff(Duration v) { this.initialBackoff = Objects.requireNonNull(v); return this; }
            public Builder maxBackoff(Duration v) { this.maxBackoff = Objects.requireNonNull(v); return this; }
            /** Cap on a server's Retry-After. */
            public Builder maxRetryAfter(Duration v) { this.maxRetryAfter = Objects.requireNonNull(v); return this; }
            /** Refuse repositories whose needed files sum above this many bytes. */
            public Builder maxTotalBytes(long v) { if (v <= 0) throw new IllegalArgumentException("maxTotalBytes <= 0"); this.maxTotalBytes = v; return this; }
            public Builder userAgent(String v) { this.userAgent = Objects.requireNonNull(v); return this; }

            public Config build() {
                return new Config(this);
            }

            private static Duration positive(Duration d) {
                if (d == null || d.isNegative() || d.isZero()) {
                    throw new IllegalArgumentException("duration must be positive: " + d);
                }
                return d;
            }
        }
    }

    private final Config config;
    private final HttpClient http;
    private final ObjectMapper json = new ObjectMapper();

    public HubClient(Config config) {
        this.config = Objects.requireNonNull(config, "config");
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(config.connectTimeout)
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    /** A client with the default settings, the token from {@code HF_TOKEN} and the endpoint from {@code HF_ENDPOINT}. */
    public static HubClient fromEnvironment() {
        return new HubClient(Config.fromEnvironment(System.getenv()).build());
    }

    public Config config() {
        return config;
    }

    // ------------------------------------------------------------------------------------------
    // Listing

    /** The repository's files at the commit {@code revision} points at (null/blank means main). */
    public RepoListing list(String namespace, String name, String revision) throws StoreException {
        ModelStore.validateNamespace(namespace);
        ModelStore.validateName(name);
        String rev = ModelStore.revisionOrDefault(revision);
        ModelStore.validateRevision(rev);
        String repo = namespace + "/" + name;
        String what = repo + "@" + rev;

        JsonNode info = getJson(URI.create(config.endpoint + "/api/models/" + repo + "/revision/" + encode(rev)), what);
        String commit = info.path("sha").asText("");
        try {
            ModelStore.validateRevision(commit);
        } catch (StoreException e) {
            throw StoreException.infrastructure("the Hub answered no usable commit for " + what + ": '" + commit + "'", null);
        }

        Map<String, RemoteFile> files = new LinkedHashMap<>();
        URI next = URI.create(config.endpoint + "/api/models/" + repo + "/tree/" + encode(commit) + "?recursive=true");
        int pages = 0;
        while (next != null) {
            if (++pages > 10_000) {
                throw StoreException.infrastructure("the Hub's tree listing of " + what + " does not end", null);
            }
            Page page = getJsonPage(next, what);
            if (!page.body.isArray()) {
                throw StoreException.infrastructure("the Hub's tree listing of " + what + " is not a JSON array", null);
            }
            for (JsonNode entry : page.body) {
                if (!"file".equals(entry.path("type").asText())) {
                    continue;
                }
                String path = entry.path("path").asText("");
                long size = entry.path("size").asLong(-1);
                JsonNode lfs = entry.get("lfs");
                String sha256 = null;
                String gitOid = null;
                if (lfs != null && lfs.isObject()) {
                    sha256 = lowerHexOrNull(lfs.path("oid").asText(null), 64);
                    size = lfs.path("size").asLong(size);
                    if (sha256 == null) {
                        throw StoreException.infrastructure("the Hub listed LFS file " + path + " of " + what + " without a SHA-256", null);
                    }
                } else {
                    gitOid = lowerHexOrNull(entry.path("oid").asText(null), 40);
                }
                if (path.isEmpty() || size < 0) {
                    throw StoreException.infrastructure("the Hub's tree listing of " + what + " has an entry without path or size", null);
                }
                files.put(path, new RemoteFile(path, size, sha256, gitOid));
            }
            next = page.next;
        }

        // The siblings of the revision answer and the tree must agree on the root-level files we need.
        for (JsonNode sibling : info.path("siblings")) {
            String path = sibling.path("rfilename").asText("");
            if (ModelFiles.isRootLevel(path) && (ModelFiles.isNeeded(path) || ModelFiles.isPickle(path)) && !files.containsKey(path)) {
                throw StoreException.infrastructure("the Hub's listings of " + what + " disagree: " + path
                        + " is a sibling but not in the tree at " + commit, null);
            }
        }
        return new RepoListing(namespace, name, rev, commit, new ArrayList<>(files.values()));
    }

    // ------------------------------------------------------------------------------------------
    // Fetch

    /**
     * Fetches the files evaluation needs of {@code namespace/name} at {@code revision} into
     * {@code dir} (created when absent). Refuses, before downloading anything, a repository with
     * pickle weights or above the size limit. Complete files from an earlier attempt at the same
     * commit are kept and {@code .part} files resumed.
     */
    public FetchResult fetch(String namespace, String name, String revision, Path dir,
                             ProgressListener progress) throws StoreException {
        ProgressListener listener = progress == null ? ProgressListener.NONE : progress;
        RepoListing listing = list(namespace, name, revision);
        String what = namespace + "/" + name + "@" + listing.revision();

        List<RemoteFile> pickles = listing.pickleFiles();
        if (!pickles.isEmpty()) {
            throw StoreException.miner("repository " + what + " contains pickle-format weights "
                    + pickles.stream().map(RemoteFile::path).sorted().toList()
                    + "; only safetensors weights are accepted");
        }
        List<RemoteFile> needed = listing.neededFiles();
        for (RemoteFile f : needed) {
            if (f.path().startsWith(".") || f.path().endsWith(PART_SUFFIX)) {
                throw StoreException.miner("repository " + what + " has an unusable file name: " + f.path());
            }
        }
        long total = listing.neededBytes();
        if (total > config.maxTotalBytes) {
            throw StoreException.miner("model " + what + " is too large: " + total + " bytes (" + gib(total)
                    + ") to fetch, above the limit of " + config.maxTotalBytes + " bytes (" + gib(config.maxTotalBytes) + ")");
        }

        try {
            Files.createDirectories(dir);
            Path commitFile = dir.resolve(COMMIT_FILE);
            String previous = Files.exists(commitFile) ? Files.readString(commitFile).trim() : null;
            if (previous != null && !previous.equals(listing.commit())) {
                log.info("{}: earlier partial fetch was at commit {}, now {}; starting over", what, previous, listing.commit());
                for (RemoteFile f : needed) {
                    Files.deleteIfExists(dir.resolve(f.path()));
                    Files.deleteIfExists(dir.resolve(f.path() + PART_SUFFIX));
                }
            }
            Files.writeString(commitFile, listing.commit() + "\n");
        } catch (IOException e) {
            throw StoreException.infrastructure("cannot prepare the model folder " + dir + ": " + e, e);
        }

        log.info("fetching {} (commit {}): {} files, {} bytes into {}", what, listing.commit(), needed.size(), total, dir);
        Progress p = new Progress(listener, total);
        p.report(true);
        for (RemoteFile f : needed) {
            downloadFile(namespace + "/" + name, listing.commit(), f, dir, p);
        }
        p.report(true);
        return new FetchResult(listing.commit(), dir, needed, total, p.transferred());
    }

    /** Progress of one fetch; updated from the HTTP client's threads, hence synchronized. */
    private static final class Progress {
        private final ProgressListener listener;
        private final long total;
        private long completed;     // bytes of files already done
        private long current;       // bytes present of the file in progress
        private long transferred;   // bytes received over the network
        private long lastReported = -1;

        Progress(ProgressListener listener, long total) {
            this.listener = listener;
            this.total = total;
        }

        synchronized void setCurrent(long bytes) {
            current = bytes;
        }

        synchronized void received(long n, long currentSize) {
            transferred += n;
            current = currentSize;
            report(false);
        }

        synchronized void fileDone(long size) {
            completed += size;
            current = 0;
            report(true);
        }

        synchronized long transferred() {
            return transferred;
        }

        synchronized void report(boolean force) {
            long done = completed + current;
            if (force || lastReported < 0 || done - lastReported >= PROGRESS_STEP) {
                lastReported = done;
                try {
                    listener.onProgress(done, total);
                } catch (RuntimeException e) {
                    log.warn("progress listener failed", e);
                }
            }
        }
    }

    private void downloadFile(String repo, String commit, RemoteFile f, Path dir, Progress p) throws StoreException {
        Path target = dir.resolve(f.path());
        Path part = dir.resolve(f.path() + PART_SUFFIX);
        String what = repo + "@" + commit + ":" + f.path();
        try {
            // Only ever renamed into place after verification, at this same commit.
            if (Files.isRegularFile(target) && Files.size(target) == f.size()) {
                p.fileDone(f.size());
                return;
            }
            Files.deleteIfExists(target);
        } catch (IOException e) {
            throw StoreException.infrastructure("cannot read " + target + ": " + e, e);
        }
        URI uri = URI.create(config.endpoint + "/" + repo + "/resolve/" + encode(commit) + "/" + encode(f.path()));
        for (int round = 0; ; round++) {
            Downloaded d = withRetries(what, () -> downloadOnce(uri, f, part, p, what));
            String problem = verify(f, d);
            if (problem == null) {
                try {
                    try {
                        Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                    } catch (AtomicMoveNotSupportedException e) {
                        Files.move(part, target, StandardCopyOption.REPLACE_EXISTING);
                    }
                } catch (IOException e) {
                    throw StoreException.infrastructure("cannot move " + part + " into place: " + e, e);
                }
                p.fileDone(f.size());
                return;
            }
            deleteQuietly(part);
            p.setCurrent(0);
            if (d.resumedFrom > 0 && round == 0) {
                log.warn("{}: {} after resuming at byte {}; downloading it again from the start", what, problem, d.resumedFrom);
                continue;
            }
            throw new StoreException(FailureCategory.MINER, "file " + f.path() + " of " + repo + "@" + commit
                    + " failed verification: " + problem + "; the download was deleted", -1, null);
        }
    }

    private static String verify(RemoteFile f, Downloaded d) {
        if (d.size != f.size()) {
            return "size is " + d.size + " bytes, the Hub lists " + f.size();
        }
        if (f.sha256() != null && !f.sha256().equals(d.digest)) {
            return "SHA-256 is " + d.digest + ", the Hub's LFS oid is " + f.sha256();
        }
        if (f.sha256() == null && f.gitOid() != null && !f.gitOid().equals(d.digest)) {
            return "git blob id is " + d.digest + ", the Hub lists " + f.gitOid();
        }
        return null;
    }

    private record Downloaded(long size, String digest, long resumedFrom) {
    }

    /** One attempt: resumes {@code part} when it exists; throws {@link Retryable} or IOException to be retried. */
    private Downloaded downloadOnce(URI uri, RemoteFile f, Path part, Progress p, String what)
            throws IOException, InterruptedException, StoreException, Retryable {
        long have = Files.isRegularFile(part) ? Files.size(part) : 0;
        if (have > f.size()) {
            Files.delete(part);
            have = 0;
        }
        MessageDigest prefix = newDigest(f);
        if (have > 0) {
            hashFile(part, prefix);
        }
        p.setCurrent(have);
        if (have == f.size() && have > 0) {
            return new Downloaded(have, hex(prefix), have);
        }

        Map<String, String> headers = new LinkedHashMap<>();
        if (have > 0) {
            headers.put("Range", "bytes=" + have + "-");
        }
        final long resumeAt = have;
        AtomicReference<FileSink> sinkRef = new AtomicReference<>();
        HttpResponse.BodyHandler<Void> handler = info -> {
            int status = info.statusCode();
            FileSink sink = null;
            if (status == 206 && resumeAt > 0 && contentRangeStart(info.headers()) == resumeAt) {
                sink = new FileSink(part, true, cloneDigest(prefix), resumeAt, f.size(), p);
            } else if (status == 200) {
                sink = new FileSink(part, false, newDigest(f), 0, f.size(), p);
            }
            if (sink == null) {
                return HttpResponse.BodySubscribers.replacing(null);
            }
            sinkRef.set(sink);
            return sink;
        };
        HttpResponse<Void> response;
        try {
            response = exchange(uri, headers, handler, sinkRef);
        } catch (IOException e) {
            FileSink failed = sinkRef.get();
            if (failed != null && failed.tooLong) {
                deleteQuietly(part);
                throw new StoreException(FailureCategory.MINER, "file " + what + " is longer than the "
                        + f.size() + " bytes the Hub lists; the download was deleted");
            }
            throw e;
        } finally {
            FileSink sink = sinkRef.get();
            if (sink != null) {
                sink.cancel(); // no-op when complete; stops a stalled or failed body and closes the file
            }
        }
        int status = response.statusCode();
        FileSink sink = sinkRef.get();
        if (sink != null) {
            if (sink.tooLong) {
                deleteQuietly(part);
                throw new StoreException(FailureCategory.MINER, "file " + what + " is longer than the "
                        + f.size() + " bytes the Hub lists; the download was deleted");
            }
            if (status == 206) {
                log.info("{}: resumed at byte {}", what, resumeAt);
            } else if (resumeAt > 0) {
                log.info("{}: server ignored the range request; downloaded from the start", what);
            }
            return new Downloaded(sink.size, hex(sink.digest), status == 206 ? resumeAt : 0);
        }
        if (status == 206) {
            Files.deleteIfExists(part);
            throw new IOException("asked for bytes from " + resumeAt + ", got Content-Range "
                    + response.headers().firstValue("Content-Range").orElse("(none)") + "; restarting the file");
        }
        if (status == 416) {
            Files.deleteIfExists(part);
            throw new IOException("range from byte " + resumeAt + " not satisfiable; restarting the file");
        }
        throw statusFailure(response, what);
    }

    private static long contentRangeStart(java.net.http.HttpHeaders headers) {
        return headers.firstValue("Content-Range").map(CONTENT_RANGE_START::matcher).filter(Matcher::lookingAt)
                .map(m -> Long.parseLong(m.group(1))).orElse(-1L);
    }

    private static MessageDigest cloneDigest(MessageDigest md) {
        try {
            return (MessageDigest) md.clone();
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Writes a response body into a {@code .part} file as it arrives, hashing it on the way and
     * stopping at the listed size. Runs on the HTTP client's threads; every method is synchronized
     * so that {@link #cancel()} from the waiting thread never races a write.
     */
    private static final class FileSink implements HttpResponse.BodySubscriber<Void> {
        private final CompletableFuture<Void> result = new CompletableFuture<>();
        private final Path file;
        private final boolean append;
        final MessageDigest digest;
        private final long limit;
        private final Progress progress;
        private Flow.Subscription subscription;
        private OutputStream out;
        private boolean finished;
        volatile long size;
        volatile long lastActivity = System.nanoTime();
        volatile boolean tooLong;

        FileSink(Path file, boolean append, MessageDigest digest, long start, long limit, Progress progress) {
            this.file = file;
            this.append = append;
            this.digest = digest;
            this.size = start;
            this.limit = limit;
            this.progress = progress;
        }

        @Override
        public synchronized void onSubscribe(Flow.Subscription s) {
            subscription = s;
            try {
                out = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING);
                progress.setCurrent(size);
                s.request(1);
            } catch (IOException e) {
                fail(e);
            }
        }

        @Override
        public synchronized void onNext(List<ByteBuffer> items) {
            if (finished) {
                return;
            }
            lastActivity = System.nanoTime();
            try {
                for (ByteBuffer b : items) {
                    int n = b.remaining();
                    if (size + n > limit) {
                        tooLong = true;
                        fail(new IOException("body longer than " + limit + " bytes"));
                        return;
                    }
                    byte[] chunk = new byte[n];
                    b.get(chunk);
                    out.write(chunk);
                    digest.update(chunk);
                    size += n;
                    progress.received(n, size);
                }
                subscription.request(1);
            } catch (IOException e) {
                fail(e);
            }
        }

        @Override
        public synchronized void onError(Throwable t) {
            fail(t);
        }

        @Override
        public synchronized void onComplete() {
            if (finished) {
                return;
            }
            finished = true;
            try {
                out.flush();
                out.close();
                result.complete(null);
            } catch (IOException e) {
                result.completeExceptionally(e);
            }
        }

        synchronized void cancel() {
            if (!finished) {
                fail(new IOException("download cancelled"));
            }
        }

        private void fail(Throwable t) {
            if (finished) {
                return;
            }
            finished = true;
            if (subscription != null) {
                subscription.cancel();
            }
            try {
                if (out != null) {
                    out.close();
                }
            } catch (IOException ignored) {
                // the download failed anyway
            }
            result.completeExceptionally(t);
        }

        @Override
        public CompletionStage<Void> getBody() {
            return result;
        }
    }

    private static MessageDigest newDigest(RemoteFile f) {
        try {
            if (f.sha256() != null) {
                return MessageDigest.getInstance("SHA-256");
            }
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            sha1.update(("blob " + f.size() + "\0").getBytes(StandardCharsets.US_ASCII));
            return sha1;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static void hashFile(Path file, MessageDigest md) throws IOException {
        byte[] buf = new byte[BUFFER_SIZE];
        try (InputStream in = Files.newInputStream(file)) {
            int n;
            while ((n = in.read(buf)) >= 0) {
                md.update(buf, 0, n);
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // HTTP

    /** A failure worth another attempt (429, 5xx). */
    private static final class Retryable extends Exception {
        private static final long serialVersionUID = 1L;
        final int status;
        final Duration retryAfter;

        Retryable(String message, int status, Duration retryAfter) {
            super(message, null, false, false);
            this.status = status;
            this.retryAfter = retryAfter;
        }
    }

    @FunctionalInterface
    private interface Attempt<T> {
        T run() throws IOException, InterruptedException, StoreException, Retryable;
    }

    private <T> T withRetries(String what, Attempt<T> attempt) throws StoreException {
        for (int i = 0; ; i++) {
            Duration wait;
            String problem;
            Exception cause;
            int status = -1;
            try {
                return attempt.run();
            } catch (Retryable r) {
                problem = r.getMessage();
                status = r.status;
                cause = null;
                wait = r.retryAfter != null ? min(r.retryAfter, config.maxRetryAfter) : backoff(i);
            } catch (IOException e) {
                problem = describe(e);
                cause = e;
                wait = backoff(i);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw StoreException.infrastructure("interrupted while talking to the Hub about " + what, e);
            }
            if (i >= config.maxRetries) {
                throw new StoreException(FailureCategory.INFRASTRUCTURE, "the Hub could not be used for " + what
                        + " after " + (i + 1) + " attempt(s): " + problem, status, cause);
            }
            log.warn("{}: {}; attempt {} of {} in {} ms", what, problem, i + 2, config.maxRetries + 1, wait.toMillis());
            try {
                Thread.sleep(wait.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw StoreException.infrastructure("interrupted while waiting to retry " + what, e);
            }
        }
    }

    private Duration backoff(int attempt) {
        long ms = config.initialBackoff.toMillis() << Math.min(attempt, 20);
        return min(Duration.ofMillis(ms), config.maxBackoff);
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    private static String describe(IOException e) {
        String m = e.getMessage();
        String kind = e.getClass().getSimpleName();
        return m == null || m.isBlank() ? kind : kind + ": " + m;
    }

    /** Sends a GET, following redirects; the token goes to the endpoint's origin only. */
    private <T> HttpResponse<T> exchange(URI uri, Map<String, String> headers, HttpResponse.BodyHandler<T> handler,
                                         AtomicReference<FileSink> watch) throws IOException, InterruptedException {
        URI current = uri;
        for (int hop = 0; ; hop++) {
            HttpRequest.Builder rb = HttpRequest.newBuilder(current).GET()
                    .timeout(config.requestTimeout)
                    .header("User-Agent", config.userAgent);
            headers.forEach(rb::header);
            if (config.token != null && sameOrigin(current, config.endpoint)) {
                rb.header("Authorization", "Bearer " + config.token);
            }
            HttpResponse<T> response = await(http.sendAsync(rb.build(), handler), watch);
            int status = response.statusCode();
            Optional<String> location = response.headers().firstValue("Location");
            if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308 || location.isEmpty()) {
                return response;
            }
            discard(response);
            if (hop >= MAX_REDIRECTS) {
                throw new IOException("more than " + MAX_REDIRECTS + " redirects from " + redact(uri));
            }
            URI next = current.resolve(location.get());
            if ("http".equalsIgnoreCase(current.getScheme()) || "https".equalsIgnoreCase(next.getScheme())) {
                current = next;
            } else {
                throw new IOException("refusing a redirect from https to " + next.getScheme());
            }
        }
    }

    /**
     * Waits for an answer. With a {@code watch}, a body that delivers nothing for the read timeout
     * is cancelled (the JDK client has no read timeout of its own once the headers are in).
     */
    private <T> HttpResponse<T> await(CompletableFuture<HttpResponse<T>> future, AtomicReference<FileSink> watch)
            throws IOException, InterruptedException {
        long step = Math.max(20, config.readTimeout.toMillis() / 4);
        try {
            while (true) {
                if (watch == null) { // an API answer: small, bounded as a whole
                    try {
                        return future.get(config.requestTimeout.plus(config.readTimeout).toMillis(), TimeUnit.MILLISECONDS);
                    } catch (TimeoutException e) {
                        future.cancel(true);
                        throw new IOException("no complete answer within " + config.requestTimeout.plus(config.readTimeout).toMillis() + " ms");
                    }
                }
                try {
                    return future.get(step, TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    FileSink sink = watch.get();
                    if (sink != null && System.nanoTime() - sink.lastActivity > config.readTimeout.toNanos()) {
                        sink.cancel();
                        future.cancel(true);
                        throw new IOException("no data for " + config.readTimeout.toMillis() + " ms while downloading");
                    }
                }
            }
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            while ((cause instanceof java.util.concurrent.CompletionException || cause instanceof ExecutionException)
                    && cause.getCause() != null) {
                cause = cause.getCause();
            }
            if (cause instanceof IOException io) {
                throw io;
            }
            throw new IOException(cause);
        } catch (InterruptedException e) {
            future.cancel(true);
            throw e;
        }
    }

    private static boolean sameOrigin(URI a, URI b) {
        return a.getScheme().equalsIgnoreCase(b.getScheme())
                && a.getHost() != null && a.getHost().equalsIgnoreCase(b.getHost())
                && port(a) == port(b);
    }

    private static int port(URI u) {
        return u.getPort() >= 0 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
    }

    private static void discard(HttpResponse<?> response) {
        if (response.body() instanceof InputStream in) {
            try {
                in.close();
            } catch (IOException ignored) {
                // nothing to do
            }
        }
    }

    private record Page(JsonNode body, URI next) {
    }

    private JsonNode getJson(URI uri, String what) throws StoreException {
        return getJsonPage(uri, what).body;
    }

    private Page getJsonPage(URI uri, String what) throws StoreException {
        return withRetries(what, () -> {
            HttpResponse<byte[]> response = exchange(uri, Map.of("Accept", "application/json"),
                    HttpResponse.BodyHandlers.ofByteArray(), null);
            if (response.statusCode() != 200) {
                throw statusFailure(response, what);
            }
            JsonNode body;
            try {
                body = json.readTree(response.body());
            } catch (IOException e) {
                throw StoreException.infrastructure("the Hub answered " + redact(uri) + " with unreadable JSON: " + e.getMessage(), e);
            }
            URI next = null;
            for (String link : response.headers().allValues("Link")) {
                Matcher m = LINK_NEXT.matcher(link);
                if (m.find()) {
                    next = response.uri().resolve(m.group(1));
                }
            }
            return new Page(body, next);
        });
    }

    /** The failure for a non-success status: throws Retryable for 429/5xx, returns a MINER failure otherwise. */
    private static StoreException statusFailure(HttpResponse<?> response, String what) throws Retryable {
        int status = response.statusCode();
        discard(response);
        String code = response.headers().firstValue("X-Error-Code").orElse(null);
        String message = response.headers().firstValue("X-Error-Message").orElse(null);
        String detail = (code != null ? " " + code : "") + (message != null ? ": " + message : "");
        if (status == 429 || status >= 500) {
            throw new Retryable("HTTP " + status + detail, status, retryAfter(response));
        }
        String reason = switch (status) {
            case 401, 403 -> "is gated, private or needs authorisation the node does not have";
            case 404 -> "was not found (repository, revision or file missing)";
            default -> "was refused";
        };
        return new StoreException(FailureCategory.MINER, what + " " + reason + " (HTTP " + status + detail + ")", status, null);
    }

    private static Duration retryAfter(HttpResponse<?> response) {
        Optional<String> value = response.headers().firstValue("Retry-After");
        if (value.isEmpty()) {
            return null;
        }
        String v = value.get().trim();
        try {
            return Duration.ofSeconds(Math.max(0, Long.parseLong(v)));
        } catch (NumberFormatException e) {
            try {
                Duration d = Duration.between(ZonedDateTime.now(), ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME));
                return d.isNegative() ? Duration.ZERO : d;
            } catch (DateTimeParseException e2) {
                return null;
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // Helpers

    /** Percent-encodes one path segment (everything but RFC 3986 unreserved characters). */
    static String encode(String s) {
        StringBuilder sb = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
                sb.append((char) c);
            } else {
                sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return sb.toString();
    }

    private static String redact(URI uri) { // signed CDN URLs carry credentials in the query
        String s = uri.toString();
        int q = s.indexOf('?');
        return q < 0 ? s : s.substring(0, q);
    }

    private static String lowerHexOrNull(String s, int length) {
        if (s == null) {
            return null;
        }
        String lower = s.toLowerCase(Locale.ROOT);
        return lower.length() == length && lower.chars().allMatch(c -> c >= '0' && c <= '9' || c >= 'a' && c <= 'f') ? lower : null;
    }

    static String hex(MessageDigest md) {
        return HexFormat.of().formatHex(md.digest());
    }

    private static String gib(long bytes) {
        return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30));
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            log.warn("cannot delete {}: {}", p, e.toString());
        }
    }
}
