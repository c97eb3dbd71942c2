package io.sn11.gpunode.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.sn11.cluster.domain.FailureCategory;
import io.sn11.cluster.work.EvaluationWork.Completed;
import io.sn11.cluster.work.EvaluationWork.Failed;
import io.sn11.cluster.work.EvaluationWork.Update;
import io.sn11.engine.safetensors.DType;
import io.sn11.engine.tiny.TinyModels;
import io.sn11.engine.tiny.TinyTokenizer;
import io.sn11.gpunode.store.ModelStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.lifecycle.BeforeProperty;

/**
 * A model whose tokenizer.json is damaged (a cut, a deletion, an insertion of random text) is evaluated in its own JVM
 * like any other: completed, or failed as the miner's. The native tokenizers library aborts its process on some of
 * these files (a Rust panic), which is why no miner's file is ever loaded in the node's JVM.
 */
class TokenizerFilePropertiesTest {
  private static final Map<String, Object> ONE_SHORT_SAMPLE =
      Map.of("sn11.gpu-node.evaluation.samples", 1, "sn11.judge.generation.max-new-tokens", 4);

  private static final String VALID = validFile();

  private Path store;
  private Path model;

  private static String validFile() {
    try {
      Path file = Files.createTempFile("valid-tokenizer", ".json");
      TinyTokenizer.write(file);
      String text = Files.readString(file, StandardCharsets.UTF_8);
      Files.delete(file);
      return text;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @BeforeProperty
  void tinyModel() throws IOException {
    store = Files.createTempDirectory("tokenizer-properties");
    model = store.resolve("acme/damaged/main");
    TinyModels.write(model, TinyModels.Arch.LLAMA, DType.BF16, 1);
  }

  @AfterProperty
  void removeStore() throws IOException {
    try (Stream<Path> files = Files.walk(store)) {
      for (Path p : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) Files.delete(p);
    }
  }

  @Example
  void theUndamagedFileIsUsable() throws Exception {
    assertInstanceOf(Completed.class, evaluateWithTokenizer(VALID), "a model with the undamaged file completes");
  }

  record Damage(int cutAt, int deleteFrom, int deleteLength, int insertAt, String inserted) {}

  @Provide
  Arbitrary<Damage> damage() {
    Arbitrary<Integer> position = Arbitraries.integers().between(0, VALID.length());
    return Combinators.combine(
            Arbitraries.oneOf(Arbitraries.just(VALID.length()), position),
            position,
            Arbitraries.integers().between(0, 64),
            position,
            Arbitraries.strings().ofMaxLength(16))
        .as(Damage::new);
  }

  @Property(tries = 20, edgeCases = EdgeCasesMode.NONE)
  void damagedTokenizerFilesAreJudgedWithoutEndangeringThisJvm(@ForAll("damage") Damage damage) throws Exception {
    StringBuilder text = new StringBuilder(VALID.substring(0, damage.cutAt()));
    int from = Math.min(damage.deleteFrom(), text.length());
    text.delete(from, Math.min(text.length(), from + damage.deleteLength()));
    text.insert(Math.min(damage.insertAt(), text.length()), damage.inserted());
    Update outcome = evaluateWithTokenizer(text.toString());
    if (outcome instanceof Failed failed) {
      assertEquals(FailureCategory.MINER, failed.failure().category(), failed.failure().reason());
    } else {
      assertInstanceOf(Completed.class, outcome, outcome::toString);
    }
  }

  /** Each try is a model of its own, placed by hand: without the record of the try before, it is recorded anew. */
  private Update evaluateWithTokenizer(String tokenizerJson) throws Exception {
    Files.writeString(model.resolve("tokenizer.json"), tokenizerJson, StandardCharsets.UTF_8);
    Files.deleteIfExists(new ModelStore(store).recordPathFor("acme", "damaged", "main"));
    return ModelEvaluatorTest.evaluator(store, ONE_SHORT_SAMPLE).evaluate(ModelEvaluatorTest.assignment("damaged"), new ModelEvaluatorTest.Reports());
  }
}
