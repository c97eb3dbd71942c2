package io.sn11.gpunode.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sn11.gpunode.engine.tiny.TinyTokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * A damaged tokenizer.json (a cut, a deletion, an insertion of random text) is judged in a separate JVM:
 * usable, or refused with a reason naming the file. The native library aborts its process on some of
 * these files (a Rust panic), which is why no damaged file is ever loaded in this JVM.
 */
class TokenizerFilePropertiesTest {
  private static final String VALID = validFile();

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

  @net.jqwik.api.Example
  void theUndamagedFileIsUsable() throws Exception {
    Path file = Files.createTempFile("tokenizer", ".json");
    try {
      Files.writeString(file, VALID, StandardCharsets.UTF_8);
      assertNull(TokenizerCheck.problemWith(file));
    } finally {
      Files.deleteIfExists(file);
    }
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
    Path file = Files.createTempFile("tokenizer", ".json");
    try {
      Files.writeString(file, text, StandardCharsets.UTF_8);
      String problem = TokenizerCheck.problemWith(file);
      if (problem != null) assertTrue(problem.startsWith(file.getFileName() + " is not a usable tokenizer: "), problem);
    } finally {
      Files.deleteIfExists(file);
    }
  }
}
