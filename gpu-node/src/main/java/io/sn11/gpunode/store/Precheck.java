package io.sn11.gpunode.store;

import io.sn11.cluster.domain.FailureCategory;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Checks a model folder before evaluation. Every failed check gives a reason a miner can act on
 * (category MINER); only local I/O errors are INFRASTRUCTURE. All checks run, so a submission
 * learns every problem at once.
 *
 * <p>Checks: the folder is present; the revision is pinned (when the caller passes it); no pickle
 * weight file ({@link ModelFiles#PICKLE_EXTENSIONS}); at least one {@code *.safetensors}; the total
 * weight bytes within the limit; the metadata files it parses within their bounds
 * ({@link #MAX_METADATA_BYTES}); {@code config.json} present, parseable, with {@code architectures}
 * naming a supported architecture; {@code tokenizer.json} present; a known chat template; and, when
 * {@code model.safetensors.index.json} is present, every shard it names is present. Like
 * {@link HubClient}, only root-level files count.
 *
 * <p>Content hash (on success): SHA-256, lower-case hex, over the bytes of {@code config.json}
 * followed by, for each weight file sorted by file name, {@code "<name>:<sha256 hex>\n"} (UTF-8).
 * Files are streamed, never read whole into memory.
 */
public final class Precheck {
    /** Weight limit: 72 GiB, as the subnet's model size score. */
    public static final long DEFAULT_MAX_BYTES = HubClient.DEFAULT_MAX_TOTAL_BYTES;

    public static final Set<String> SUPPORTED_ARCHITECTURES =
            Set.of("LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM");

    public static final Set<String> CHAT_TEMPLATES = Set.of(
            "chatml", "vicuna", "zephyr", "mistral", "alpaca", "llama2", "llama3", "llama3dot1", "gemma2", "qwen2dot5");

    private static final String INDEX_FILE = "model.safetensors.index.json";

    /**
     * The metadata files the evaluation parses whole, each bounded well above any real model's (a Llama-3
     * tokenizer.json is 9 MB): a larger one is the miner's failure here, before anything reads it, rather
     * than the evaluation's JVM running out of memory parsing it (which could not be told from ours).
     */
    static final Map<String, Long> MAX_METADATA_BYTES =
            Map.of("config.json", 1L << 20, "tokenizer.json", 64L << 20, INDEX_FILE, 16L << 20);
    private final ObjectMapper json = new ObjectMapper();

    /** Checks everything but the revision. */
    public PrecheckResult check(Path modelDir, String chatTemplate, long maxBytes) {
        return run(modelDir, null, false, chatTemplate, maxBytes, true);
    }

    /** Checks everything, including that {@code revision} is a pinned (named, valid) revision. */
    public PrecheckResult check(Path modelDir, String revision, String chatTemplate, long maxBytes) {
        return run(modelDir, revision, true, chatTemplate, maxBytes, true);
    }

    /**
     * As {@link #check(Path, String, String, long)} without the content hash (a passed result has none): for the
     * evaluation, which hashes the bytes it loads instead, so that no weight byte is read twice.
     */
    public PrecheckResult checkUnhashed(Path modelDir, String revision, String chatTemplate, long maxBytes) {
        return run(modelDir, revision, true, chatTemplate, maxBytes, false);
    }

    private PrecheckResult run(Path modelDir, String revision, boolean checkRevision, String chatTemplate, long maxBytes, boolean hash) {
        if (maxBytes <= 0) {
            throw new IllegalArgumentException("maxBytes must be positive: " + maxBytes);
        }
        List<PrecheckResult.Failure> failures = new ArrayList<>();
        if (checkRevision) {
            if (revision == null || revision.isBlank()) {
                miner(failures, "revision not pinned: the submission must name a revision");
            } else {
                try {
                    ModelStore.validateRevision(revision);
                } catch (StoreException e) {
                    miner(failures, e.getMessage());
                }
            }
        }
        if (chatTemplate == null || !CHAT_TEMPLATES.contains(chatTemplate)) {
            miner(failures, "unknown chat template " + (chatTemplate == null ? "(none)" : "'" + chatTemplate + "'")
                    + "; expected one of " + new TreeSet<>(CHAT_TEMPLATES));
        }
        if (modelDir == null || !Files.isDirectory(modelDir)) {
            miner(failures, "repository not present: no model folder" + (modelDir == null ? "" : " at " + modelDir));
            return PrecheckResult.failed(failures, 0);
        }

        TreeMap<String, Path> weights = new TreeMap<>();
        List<String> pickles = new ArrayList<>();
        long weightBytes = 0;
        try (Stream<Path> entries = Files.list(modelDir)) {
            for (Path p : (Iterable<Path>) entries.sorted()::iterator) {
                String fileName = p.getFileName().toString();
                if (!Files.isRegularFile(p)) {
                    continue;
                }
                if (ModelFiles.isPickle(fileName)) {
                    pickles.add(fileName);
                } else if (ModelFiles.isWeight(fileName)) {
                    weights.put(fileName, p);
                    weightBytes += Files.size(p);
                }
            }
        } catch (IOException e) {
            failures.add(new PrecheckResult.Failure(FailureCategory.INFRASTRUCTURE, "cannot list the model folder: " + e));
            return PrecheckResult.failed(failures, 0);
        }

        if (!pickles.isEmpty()) {
            miner(failures, "pickle-format weight files are not accepted, only safetensors: " + pickles);
        }
        if (weights.isEmpty()) {
            miner(failures, "no *.safetensors weight file");
        }
        if (weightBytes > maxBytes) {
            miner(failures, "model too large: " + weightBytes + " bytes of weights, above the limit of " + maxBytes + " bytes");
        }
        if (!metadataWithinBounds(modelDir, failures)) {
            return PrecheckResult.failed(failures, weightBytes);
        }
        checkConfig(modelDir.resolve("config.json"), failures);
        if (!Files.isRegularFile(modelDir.resolve("tokenizer.json"))) {
            miner(failures, "tokenizer.json missing");
        }
        checkIndex(modelDir.resolve(INDEX_FILE), weights.keySet(), failures);

        if (!failures.isEmpty()) {
            return PrecheckResult.failed(failures, weightBytes);
        }
        if (!hash) {
            return PrecheckResult.passed(null, weightBytes);
        }
        try {
            return PrecheckResult.passed(contentHash(modelDir.resolve("config.json"), weights), weightBytes);
        } catch (IOException e) {
            failures.add(new PrecheckResult.Failure(FailureCategory.INFRASTRUCTURE, "cannot read the model files to hash them: " + e));
            return PrecheckResult.failed(failures, weightBytes);
        }
    }

    private static boolean metadataWithinBounds(Path modelDir, List<PrecheckResult.Failure> failures) {
        boolean within = true;
        for (var bound : new TreeMap<>(MAX_METADATA_BYTES).entrySet()) {
            Path file = modelDir.resolve(bound.getKey());
            try {
                if (Files.isRegularFile(file) && Files.size(file) > bound.getValue()) {
                    miner(failures, bound.getKey() + " is " + Files.size(file) + " bytes, above the bound of " + bound.getValue() + " bytes");
                    within = false;
                }
            } catch (IOException e) {
                failures.add(new PrecheckResult.Failure(FailureCategory.INFRASTRUCTURE, "cannot read the size of " + file + ": " + e));
                within = false;
            }
        }
        return within;
    }

    private void checkConfig(Path config, List<PrecheckResult.Failure> failures) {
        if (!Files.isRegularFile(config)) {
            miner(failures, "config.json missing");
            return;
        }
        JsonNode root;
        try {
            root = json.readTree(config.toFile());
        } catch (IOException e) {
            miner(failures, "config.json is not valid JSON: " + firstLine(e.getMessage()));
            return;
        }
        if (root == null || !root.isObject()) {
            miner(failures, "config.json is not a JSON object");
            return;
        }
        JsonNode architectures = root.get("architectures");
        List<String> named = new ArrayList<>();
        if (architectures != null && architectures.isArray()) {
            architectures.forEach(a -> named.add(a.asText()));
        }
        if (named.stream().noneMatch(SUPPORTED_ARCHITECTURES::contains)) {
            miner(failures, "unsupported architecture: config.json names " + (named.isEmpty() ? "none" : named)
                    + "; expected one of " + new TreeSet<>(SUPPORTED_ARCHITECTURES));
        }
    }

    private void checkIndex(Path index, Set<String> weightNames, List<PrecheckResult.Failure> failures) {
        if (!Files.isRegularFile(index)) {
            return;
        }
        try {
            JsonNode map = json.readTree(index.toFile()).path("weight_map");
            TreeSet<String> missing = new TreeSet<>();
            map.forEach(shard -> {
                if (!weightNames.contains(shard.asText())) {
                    missing.add(shard.asText());
                }
            });
            if (!map.isObject()) {
                miner(failures, INDEX_FILE + " has no weight_map");
            } else if (!missing.isEmpty()) {
                miner(failures, INDEX_FILE + " names weight files that are missing: " + missing);
            }
        } catch (IOException e) {
            miner(failures, INDEX_FILE + " is not valid JSON: " + firstLine(e.getMessage()));
        }
    }

    /** The content hash as documented on the class; weights sorted by file name. */
    static String contentHash(Path config, TreeMap<String, Path> weights) throws IOException {
        MessageDigest outer = sha256();
        HubClient.hashFile(config, outer);
        TreeMap<String, String> weightSha256 = new TreeMap<>();
        for (var w : weights.entrySet()) {
            MessageDigest inner = sha256();
            HubClient.hashFile(w.getValue(), inner);
            weightSha256.put(w.getKey(), HexFormat.of().formatHex(inner.digest()));
        }
        return contentHash(outer, weightSha256);
    }

    /**
     * The content hash as documented on the class, from a SHA-256 digest already fed the bytes of {@code config.json}
     * and the SHA-256 (hex) of each weight file by name; consumes {@code afterConfig}.
     */
    public static String contentHash(MessageDigest afterConfig, SortedMap<String, String> weightSha256) {
        for (var w : weightSha256.entrySet()) {
            afterConfig.update((w.getKey() + ":" + w.getValue() + "\n").getBytes(StandardCharsets.UTF_8));
        }
        return HexFormat.of().formatHex(afterConfig.digest());
    }

    /** A new SHA-256 digest. */
    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void miner(List<PrecheckResult.Failure> failures, String reason) {
        failures.add(new PrecheckResult.Failure(FailureCategory.MINER, reason));
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
