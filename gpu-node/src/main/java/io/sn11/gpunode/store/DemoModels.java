package io.sn11.gpunode.store;

import io.sn11.engine.safetensors.DType;
import io.sn11.engine.tiny.TinyModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The demo models of {@code sn11 serve}: tiny random-weight models of each supported family, in the
 * model store as if fetched from the Hub, so that a submission completes end to end on a machine
 * without network or GPU. Their scores mean nothing; the pipeline that produces them is the real one.
 */
public final class DemoModels {
  public static final String NAMESPACE = "sn11-demo";

  private static final Map<String, TinyModels.Arch> MODELS =
      Map.of("tiny-llama", TinyModels.Arch.LLAMA, "tiny-mistral", TinyModels.Arch.MISTRAL, "tiny-qwen2", TinyModels.Arch.QWEN2);

  /** The demo judge: a tiny random-weight chat model (Qwen2 family, chatml) for {@code sn11 serve --judge-model demo}. */
  public static final String JUDGE = "tiny-judge";

  /** The chat template the demo judge is prompted in. */
  public static final String JUDGE_CHAT_TEMPLATE = "chatml";

  private static final long JUDGE_SEED = 101;

  private DemoModels() {}

  /** Writes the demo models that are missing from {@code store}; returns every demo repository id. */
  public static List<String> ensure(ModelStore store) throws IOException, StoreException {
    List<String> repositories = new ArrayList<>();
    long seed = 1;
    for (String name : MODELS.keySet().stream().sorted().toList()) {
      long modelSeed = seed++;
      repositories.add(ensure(store, name, dir -> TinyModels.write(dir, MODELS.get(name), DType.BF16, modelSeed)));
    }
    return repositories;
  }

  /**
   * Writes the demo judge when missing from {@code store}; returns its repository id. Its verdicts are schema-valid
   * (the engine judge's constraint) and meaningless (random weights).
   */
  public static String ensureJudge(ModelStore store) throws IOException, StoreException {
    return ensure(store, JUDGE, DemoModels::writeJudge);
  }

  /**
   * Writes the demo judge into {@code dir}: a tiny Qwen2 whose context (8192 positions) holds the judge prompt, which
   * the tiny tokenizer spells in about 1,500-3,000 tokens, and a verdict.
   */
  public static void writeJudge(Path dir) throws IOException {
    TinyModels.Shape tiny = TinyModels.Shape.TINY;
    TinyModels.write(dir, TinyModels.Arch.QWEN2, DType.BF16, JUDGE_SEED, new TinyModels.Shape(tiny.hidden(), tiny.intermediate(),
        tiny.layers(), tiny.heads(), tiny.kvHeads(), tiny.vocab(), tiny.llamaTied(), tiny.ropeFactor(), tiny.ropeOriginalMaxPositions(),
        JUDGE_CONTEXT, tiny.embeddingStd()));
  }

  private static final int JUDGE_CONTEXT = 8192;

  /** Writes a model folder into {@code dir}. */
  @FunctionalInterface
  private interface Writer {
    void write(Path dir) throws IOException;
  }

  private static String ensure(ModelStore store, String name, Writer writer) throws IOException, StoreException {
    Path target = store.pathFor(NAMESPACE, name, ModelStore.DEFAULT_REVISION);
    if (!Files.isDirectory(target)) {
      // Written aside and moved into place, so that a half-written model is never in the store.
      Path incoming = Files.createTempDirectory(Files.createDirectories(store.root()), ".demo-");
      writer.write(incoming);
      store.writeRecord(NAMESPACE, name, ModelStore.DEFAULT_REVISION, FetchRecord.of(incoming, FetchRecord.Origin.DEMO, Map.of()));
      Files.createDirectories(target.getParent());
      Files.move(incoming, target, StandardCopyOption.ATOMIC_MOVE);
    }
    return NAMESPACE + "/" + name;
  }
}
