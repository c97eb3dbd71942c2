package io.sn11.gpunode.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sn11.cluster.domain.FailureCategory;
import io.sn11.cluster.work.EvaluationWork.Failed;
import io.sn11.engine.model.ModelConfig;
import io.sn11.engine.model.ModelWeights;
import io.sn11.engine.safetensors.DType;
import io.sn11.engine.tiny.TinyModels;
import io.sn11.gpunode.store.FetchRecord;
import io.sn11.gpunode.store.Precheck;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The digests of the bytes an evaluation loads, against independent computations over the files. */
class LoadedContentTest {
  @TempDir Path tmp;

  private static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }

  /**
   * The content hash from the loaded bytes (config.json as read, the weights as mapped) is the one the precheck computes
   * from the files, and a plain SHA-256 over the canonical sequence assembled here: config.json's bytes, then
   * {@code "<weight file>:<sha256>\n"} for each weight file by name (two shards and an index here).
   */
  @Test
  void theContentHashOfTheLoadedBytesIsThePrechecks() throws Exception {
    Path model = tmp.resolve("model");
    TinyModels.write(model, TinyModels.Arch.QWEN2, DType.BF16, 4);
    shard(model);
    LoadedContent content = LoadedContent.read(model);
    String loaded;
    try (ModelWeights weights = ModelWeights.load(model, ModelConfig.fromJson(content.config(), "config.json"))) {
      assertEquals(2, weights.files().size(), "the engine maps both shards");
      loaded = content.contentHash(content.digests(weights));
    }

    MessageDigest canonical = MessageDigest.getInstance("SHA-256");
    canonical.update(Files.readAllBytes(model.resolve("config.json")));
    for (String shard : new String[] {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}) {
      canonical.update((shard + ":" + sha256(Files.readAllBytes(model.resolve(shard))) + "\n").getBytes(StandardCharsets.UTF_8));
    }
    assertEquals(HexFormat.of().formatHex(canonical.digest()), loaded);
    assertEquals(new Precheck().check(model, "chatml", Precheck.DEFAULT_MAX_BYTES).contentHash(), loaded);
  }

  @Test
  void unchangedFilesPassAndASwappedOneIsNamedWithBothDigests() throws Exception {
    Path model = tmp.resolve("model");
    TinyModels.write(model, TinyModels.Arch.LLAMA, DType.BF16, 1);
    FetchRecord recorded = FetchRecord.of(model, FetchRecord.Origin.FETCHED, Map.of());
    TinyModels.write(tmp.resolve("other"), TinyModels.Arch.LLAMA, DType.BF16, 2);
    LoadedContent content = LoadedContent.read(model);
    try (ModelWeights weights = ModelWeights.load(model, ModelConfig.fromJson(content.config(), "config.json"))) {
      assertEquals(Optional.empty(), content.mismatch(recorded, content.digests(weights)));
    }

    Files.copy(tmp.resolve("other/model.safetensors"), model.resolve("model.safetensors"), StandardCopyOption.REPLACE_EXISTING);
    try (ModelWeights weights = ModelWeights.load(model, ModelConfig.fromJson(content.config(), "config.json"))) {
      Failed failed = (Failed) content.mismatch(recorded, content.digests(weights)).orElseThrow();
      String reason = failed.failure().reason();
      assertEquals(FailureCategory.INFRASTRUCTURE, failed.failure().category());
      assertTrue(LoadedContent.isMismatch(failed));
      assertTrue(reason.contains("model.safetensors: recorded sha256 " + recorded.files().get("model.safetensors").sha256()), reason);
      assertTrue(reason.contains("loaded sha256 " + sha256(Files.readAllBytes(model.resolve("model.safetensors")))), reason);
      assertTrue(reason.contains("content hash recorded " + recorded.contentHash() + ", loaded "
          + new Precheck().check(model, "chatml", Precheck.DEFAULT_MAX_BYTES).contentHash()), reason);
    }
  }

  /** Splits model.safetensors into two shards named by an index, as the Hub's larger models are. */
  private static void shard(Path model) throws Exception {
    io.sn11.engine.safetensors.SafetensorsModel whole = io.sn11.engine.safetensors.SafetensorsModel.open(model);
    io.sn11.engine.safetensors.SafetensorsWriter first = new io.sn11.engine.safetensors.SafetensorsWriter(Map.of());
    io.sn11.engine.safetensors.SafetensorsWriter second = new io.sn11.engine.safetensors.SafetensorsWriter(Map.of());
    StringBuilder map = new StringBuilder();
    int i = 0;
    for (String name : whole.names()) {
      var tensor = whole.tensor(name);
      String shard = i++ % 2 == 0 ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
      (shard.contains("00001-") ? first : second).add(name, tensor.dtype(), tensor.shape(), tensor.toFloatArray());
      map.append(map.isEmpty() ? "" : ",").append('"').append(name).append("\":\"").append(shard).append('"');
    }
    first.write(model.resolve("model-00001-of-00002.safetensors"));
    second.write(model.resolve("model-00002-of-00002.safetensors"));
    whole.close();
    Files.delete(model.resolve("model.safetensors"));
    Files.writeString(model.resolve("model.safetensors.index.json"), "{\"weight_map\":{" + map + "}}");
  }
}
