package io.sn11.gpunode.store;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * What the node recorded of a model when it entered the store: the content hash ({@link Precheck}'s definition) and the
 * size and SHA-256 of each file the evaluation loads ({@link #isChecked}), so that the evaluation can tell whether the
 * files it loads are the ones fetched, and name the ones that are not. Kept by {@link ModelStore} outside the model
 * folder, where no repository's file can reach.
 *
 * @param contentHash the model's content hash
 * @param files       each checked file of the folder, by name
 * @param origin      how the model entered the store
 * @param recordedAt  when this record was made (ISO-8601)
 */
public record FetchRecord(
    @JsonProperty("content_hash") String contentHash,
    @JsonProperty("files") SortedMap<String, FileDigest> files,
    @JsonProperty("origin") Origin origin,
    @JsonProperty("recorded_at") String recordedAt) {

  /** How a model entered the store. */
  public enum Origin {
    /** Fetched from the Hub, every file verified against the Hub's hashes. */
    FETCHED,
    /** Written by this node as a demo model. */
    DEMO,
    /** Found in the store without a record (placed by hand): recorded as found, "trust on first use". */
    FIRST_USE
  }

  /** One file's size in bytes and SHA-256 (lower-case hex). */
  public record FileDigest(@JsonProperty("size") long size, @JsonProperty("sha256") String sha256) {
    public FileDigest {
      Objects.requireNonNull(sha256, "sha256");
    }

    @Override
    public String toString() {
      return "sha256 " + sha256 + " (" + size + " bytes)";
    }
  }

  public static final String CONFIG = "config.json";
  public static final String TOKENIZER = "tokenizer.json";

  private static final int BUFFER_BYTES = 1 << 20;

  public FetchRecord {
    Objects.requireNonNull(contentHash, "contentHash");
    Objects.requireNonNull(origin, "origin");
    files = new TreeMap<>(Objects.requireNonNull(files, "files"));
  }

  /** The files the evaluation loads, so the ones recorded and checked: config.json, tokenizer.json, every weight file. */
  public static boolean isChecked(String fileName) {
    return fileName.equals(CONFIG) || fileName.equals(TOKENIZER) || ModelFiles.isWeight(fileName);
  }

  /**
   * Records the folder's checked files as they are now, each read once (streamed). A file in {@code verifiedSha256}
   * (by name: the SHA-256 a fetch already verified while downloading it) is not read again. A folder without
   * {@code config.json} is recorded too (its content hash over no config bytes): the precheck fails it as the miner's,
   * which the record then confirms.
   */
  public static FetchRecord of(Path dir, Origin origin, Map<String, String> verifiedSha256) throws IOException {
    SortedMap<String, FileDigest> files = digestsOf(dir, verifiedSha256);
    MessageDigest content = Precheck.sha256();
    if (files.containsKey(CONFIG)) digestOf(dir.resolve(CONFIG), content);
    return new FetchRecord(Precheck.contentHash(content, weightSha256(files)), files, origin, Instant.now().toString());
  }

  /** The folder's checked files as they are now, each read once (streamed). */
  public static SortedMap<String, FileDigest> digestsOf(Path dir) throws IOException {
    return digestsOf(dir, Map.of());
  }

  private static SortedMap<String, FileDigest> digestsOf(Path dir, Map<String, String> verifiedSha256) throws IOException {
    SortedMap<String, FileDigest> files = new TreeMap<>();
    try (Stream<Path> entries = Files.list(dir)) {
      for (Path file : (Iterable<Path>) entries.sorted()::iterator) {
        String name = file.getFileName().toString();
        if (!isChecked(name) || !Files.isRegularFile(file)) continue;
        String verified = verifiedSha256.get(name);
        files.put(name, verified != null ? new FileDigest(Files.size(file), verified) : digestOf(file, null));
      }
    }
    return files;
  }

  /** The SHA-256 of each weight file among {@code files}, by name. */
  public static SortedMap<String, String> weightSha256(Map<String, FileDigest> files) {
    SortedMap<String, String> weights = new TreeMap<>();
    files.forEach((name, digest) -> {
      if (ModelFiles.isWeight(name)) weights.put(name, digest.sha256());
    });
    return weights;
  }

  /**
   * How {@code loaded} (the checked files as the evaluation read them) differs from this record, one line per file;
   * empty when they are the same files.
   */
  public List<String> differences(Map<String, FileDigest> loaded) {
    List<String> differences = new ArrayList<>();
    TreeSet<String> names = new TreeSet<>(files.keySet());
    names.addAll(loaded.keySet());
    for (String name : names) {
      FileDigest recorded = files.get(name), read = loaded.get(name);
      if (recorded == null) {
        differences.add(name + ": not in the record, loaded with " + read);
      } else if (read == null) {
        differences.add(name + ": recorded with " + recorded + ", missing now");
      } else if (!recorded.sha256().equals(read.sha256()) || recorded.size() != read.size()) {
        differences.add(name + ": recorded " + recorded + ", loaded " + read);
      }
    }
    return differences;
  }

  /** The file's size and SHA-256, read once (streamed). */
  public static FileDigest digestOf(Path file) throws IOException {
    return digestOf(file, null);
  }

  /** As {@link #digestOf(Path)}, feeding the bytes read to {@code alsoFeed} too (when not null). */
  private static FileDigest digestOf(Path file, MessageDigest alsoFeed) throws IOException {
    MessageDigest digest = Precheck.sha256();
    byte[] buffer = new byte[BUFFER_BYTES];
    long size = 0;
    try (InputStream in = Files.newInputStream(file)) {
      for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
        digest.update(buffer, 0, n);
        if (alsoFeed != null) alsoFeed.update(buffer, 0, n);
        size += n;
      }
    }
    return new FileDigest(size, HexFormat.of().formatHex(digest.digest()));
  }
}
