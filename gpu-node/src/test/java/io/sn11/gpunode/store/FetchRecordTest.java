package io.sn11.gpunode.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sn11.engine.safetensors.DType;
import io.sn11.engine.tiny.TinyModels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The record of a model's files, checked against plain SHA-256 computations of the files. */
class FetchRecordTest {
  @TempDir Path tmp;
  Path model;

  @BeforeEach
  void tinyModel() throws Exception {
    model = tmp.resolve("model");
    TinyModels.write(model, TinyModels.Arch.LLAMA, DType.BF16, 7);
    Files.writeString(model.resolve("README.md"), "not loaded, not recorded");
  }

  static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }

  @Test
  void recordsEachLoadedFileAndTheContentHashAsPrecheckDoes() throws Exception {
    FetchRecord record = FetchRecord.of(model, FetchRecord.Origin.FETCHED, Map.of());

    assertEquals(Set.of("config.json", "tokenizer.json", "model.safetensors"), record.files().keySet());
    for (var file : record.files().entrySet()) {
      byte[] bytes = Files.readAllBytes(model.resolve(file.getKey()));
      assertEquals(new FetchRecord.FileDigest(bytes.length, sha256(bytes)), file.getValue(), file.getKey());
    }
    // Hand-assembled: config.json's bytes, then "<weight file>:<its sha256>\n".
    MessageDigest content = MessageDigest.getInstance("SHA-256");
    content.update(Files.readAllBytes(model.resolve("config.json")));
    content.update(("model.safetensors:" + sha256(Files.readAllBytes(model.resolve("model.safetensors"))) + "\n").getBytes(StandardCharsets.UTF_8));
    assertEquals(HexFormat.of().formatHex(content.digest()), record.contentHash());
    assertEquals(new Precheck().check(model, "chatml", Precheck.DEFAULT_MAX_BYTES).contentHash(), record.contentHash());
    assertEquals(FetchRecord.Origin.FETCHED, record.origin());
  }

  /** A SHA-256 the fetch verified while downloading is taken as it is: the file is not read again. */
  @Test
  void aVerifiedSha256IsNotRecomputed() throws Exception {
    String verified = "ab".repeat(32);
    FetchRecord record = FetchRecord.of(model, FetchRecord.Origin.FETCHED, Map.of("model.safetensors", verified));
    assertEquals(verified, record.files().get("model.safetensors").sha256());
    assertEquals(Files.size(model.resolve("model.safetensors")), record.files().get("model.safetensors").size());
  }

  @Test
  void theSameFilesDifferInNothing() throws Exception {
    FetchRecord record = FetchRecord.of(model, FetchRecord.Origin.DEMO, Map.of());
    assertEquals(List.of(), record.differences(FetchRecord.digestsOf(model)));
  }

  @Test
  void eachDifferingFileIsNamedWithBothDigests() throws Exception {
    FetchRecord record = FetchRecord.of(model, FetchRecord.Origin.FETCHED, Map.of());
    String recordedWeights = record.files().get("model.safetensors").sha256();
    TinyModels.write(tmp.resolve("other"), TinyModels.Arch.LLAMA, DType.BF16, 8);
    Files.copy(tmp.resolve("other/model.safetensors"), model.resolve("model.safetensors"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Files.delete(model.resolve("tokenizer.json"));
    Files.write(model.resolve("extra.safetensors"), new byte[] {1, 2, 3});

    List<String> differences = record.differences(FetchRecord.digestsOf(model));

    assertEquals(3, differences.size(), differences::toString);
    assertTrue(differences.get(0).startsWith("extra.safetensors: not in the record, loaded with sha256 " + sha256(new byte[] {1, 2, 3})), differences.get(0));
    String swapped = differences.get(1);
    assertTrue(swapped.startsWith("model.safetensors: recorded sha256 " + recordedWeights), swapped);
    assertTrue(swapped.contains("loaded sha256 " + sha256(Files.readAllBytes(model.resolve("model.safetensors")))), swapped);
    assertTrue(differences.get(2).startsWith("tokenizer.json: recorded with sha256 "), differences.get(2));
    assertTrue(differences.get(2).endsWith("missing now"), differences.get(2));
    assertFalse(String.join("", differences).contains("config.json"), "an unchanged file is not named");
  }

  /** A repository without config.json is the miner's failure (the precheck's): recording it is no failure of ours. */
  @Test
  void aFolderWithoutConfigIsRecordedToo() throws Exception {
    Files.delete(model.resolve("config.json"));
    FetchRecord record = FetchRecord.of(model, FetchRecord.Origin.FETCHED, Map.of());
    assertEquals(Set.of("tokenizer.json", "model.safetensors"), record.files().keySet());
    String weightLine = "model.safetensors:" + sha256(Files.readAllBytes(model.resolve("model.safetensors"))) + "\n";
    assertEquals(sha256(weightLine.getBytes(StandardCharsets.UTF_8)), record.contentHash());
    assertEquals(List.of(), record.differences(FetchRecord.digestsOf(model)));
  }

  @Test
  void aRecordReadsBackAsWritten() throws Exception {
    ModelStore store = new ModelStore(tmp.resolve("store"));
    FetchRecord record = FetchRecord.of(model, FetchRecord.Origin.FETCHED, Map.of());
    store.writeRecord("acme", "tiny", "refs/pr/1", record);
    assertEquals(record, store.record("acme", "tiny", "refs/pr/1").orElseThrow());
    assertEquals(store.root().resolve(".fetched/acme/tiny/refs%2Fpr%2F1.json"), store.recordPathFor("acme", "tiny", "refs/pr/1"));
  }
}
