package io.sn11.gpunode.worker;

import io.sn11.cluster.domain.FailureCategory;
import io.sn11.cluster.work.EvaluationWork.Failed;
import io.sn11.cluster.work.EvaluationWork.Update;
import io.sn11.engine.model.ModelWeights;
import io.sn11.engine.safetensors.SafetensorsFile;
import io.sn11.gpunode.store.FetchRecord;
import io.sn11.gpunode.store.FetchRecord.FileDigest;
import io.sn11.gpunode.store.ModelFiles;
import io.sn11.gpunode.store.Precheck;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The model files an evaluation uses, each read once: {@code config.json} and {@code tokenizer.json} as bytes (the
 * engine parses these very bytes), the weights as the engine maps them. Their SHA-256 digests are taken from the same
 * bytes, so the content checked against the model's {@link FetchRecord} is the content scored: a file swapped between
 * the check and the use cannot pass.
 */
final class LoadedContent {
  /** How a mismatch's reason begins: the node knows it by this, removes the model and its record, and fetches again. */
  static final String MISMATCH = "the model files loaded are not the ones recorded when the model entered the store";

  private final Path dir;
  private final byte[] config;
  private final byte[] tokenizer;

  private LoadedContent(Path dir, byte[] config, byte[] tokenizer) {
    this.dir = dir;
    this.config = config;
    this.tokenizer = tokenizer;
  }

  /** Reads {@code config.json} and {@code tokenizer.json} of the folder (absent: null, which matches only a record without it). */
  static LoadedContent read(Path dir) throws IOException {
    return new LoadedContent(dir, readIfPresent(dir.resolve(FetchRecord.CONFIG)), readIfPresent(dir.resolve(FetchRecord.TOKENIZER)));
  }

  byte[] config() {
    return config;
  }

  byte[] tokenizer() {
    return tokenizer;
  }

  /**
   * The checked files as loaded: config.json and tokenizer.json from the bytes read, each weight file the engine mapped
   * from its mapping. A weight file in the folder that the engine did not map (one the index does not name) is read
   * here, as it counts in the content hash.
   */
  SortedMap<String, FileDigest> digests(ModelWeights weights) throws IOException {
    SortedMap<String, FileDigest> digests = metadataDigests();
    for (SafetensorsFile file : weights.files()) {
      MessageDigest digest = Precheck.sha256();
      file.contentDigest(digest);
      digests.put(file.path().getFileName().toString(), new FileDigest(file.byteSize(), HexFormat.of().formatHex(digest.digest())));
    }
    for (Path weight : weightFiles()) {
      String name = weight.getFileName().toString();
      if (!digests.containsKey(name)) digests.put(name, FetchRecord.digestOf(weight));
    }
    return digests;
  }

  /** The content hash ({@link Precheck}'s definition) of config.json's bytes and the weights among {@code digests}. */
  String contentHash(Map<String, FileDigest> digests) {
    MessageDigest content = Precheck.sha256();
    content.update(config == null ? new byte[0] : config);
    return Precheck.contentHash(content, FetchRecord.weightSha256(digests));
  }

  /**
   * The attempt's failure when {@code loaded} differs from {@code recorded}: INFRASTRUCTURE (a file changed on our disk
   * is not the miner's doing), naming each file that differs with both digests, and both content hashes.
   */
  Optional<Update> mismatch(FetchRecord recorded, Map<String, FileDigest> loaded) {
    return mismatch(recorded, loaded, contentHash(loaded));
  }

  /** As {@link #mismatch}, for config.json and tokenizer.json alone: the weights are checked once mapped. */
  Optional<Update> metadataMismatch(FetchRecord recorded) {
    SortedMap<String, FileDigest> loaded = metadataDigests();
    recorded.files().forEach((name, digest) -> {
      if (ModelFiles.isWeight(name)) loaded.put(name, digest);
    });
    return mismatch(recorded, loaded, null);
  }

  /**
   * {@code failure}, the miner's, unless the folder's files (read again, streamed: this is a failure's path) are not
   * the recorded ones: then it is the mismatch's, since the miner's files are not what failed.
   */
  static Update unlessChanged(FetchRecord recorded, Path dir, Update failure) throws IOException {
    return mismatch(recorded, FetchRecord.digestsOf(dir), null).orElse(failure);
  }

  private static Optional<Update> mismatch(FetchRecord recorded, Map<String, FileDigest> loaded, String loadedContentHash) {
    List<String> differences = recorded.differences(loaded);
    if (differences.isEmpty()) return Optional.empty();
    String reason = MISMATCH + " (" + recorded.origin().name().toLowerCase(Locale.ROOT) + " at " + recorded.recordedAt() + "): "
        + String.join("; ", differences) + "; content hash recorded " + recorded.contentHash()
        + (loadedContentHash == null ? "" : ", loaded " + loadedContentHash);
    return Optional.of(ModelScoring.failure(reason, FailureCategory.INFRASTRUCTURE));
  }

  /** True for the failure {@link #mismatch} gives. */
  static boolean isMismatch(Failed failed) {
    return failed.failure().category() == FailureCategory.INFRASTRUCTURE
        && failed.failure().reason().startsWith(MISMATCH);
  }

  private SortedMap<String, FileDigest> metadataDigests() {
    SortedMap<String, FileDigest> digests = new TreeMap<>();
    if (config != null) digests.put(FetchRecord.CONFIG, digestOf(config));
    if (tokenizer != null) digests.put(FetchRecord.TOKENIZER, digestOf(tokenizer));
    return digests;
  }

  private List<Path> weightFiles() throws IOException {
    try (Stream<Path> entries = Files.list(dir)) {
      return entries.filter(p -> ModelFiles.isWeight(p.getFileName().toString()) && Files.isRegularFile(p)).sorted()
          .toList();
    }
  }

  private static FileDigest digestOf(byte[] bytes) {
    return new FileDigest(bytes.length, HexFormat.of().formatHex(Precheck.sha256().digest(bytes)));
  }

  private static byte[] readIfPresent(Path file) throws IOException {
    return Files.isRegularFile(file) ? Files.readAllBytes(file) : null;
  }
}
