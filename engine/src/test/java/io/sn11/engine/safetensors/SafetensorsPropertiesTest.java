package io.sn11.engine.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Random damage to a valid file: flipped bytes anywhere (header length, JSON, data), truncation, a random
 * declared header length. Opening and reading every tensor either works or fails with a
 * SafetensorsException naming the problem: never an out-of-bounds read or another exception.
 */
class SafetensorsPropertiesTest {
  private static final byte[] VALID = validFile();

  /** One byte change: position and new value. */
  record Damage(List<int[]> flips, int truncateTo, Long declaredHeaderLength) {}

  @Provide
  Arbitrary<Damage> damage() {
    Arbitrary<int[]> flip = Combinators.combine(Arbitraries.integers().between(0, VALID.length - 1), Arbitraries.integers().between(0, 255))
        .as((at, value) -> new int[] {at, value});
    Arbitrary<Integer> truncate = Arbitraries.oneOf(Arbitraries.just(VALID.length), Arbitraries.integers().between(0, VALID.length));
    Arbitrary<Long> headerLength = Arbitraries.oneOf(
        Arbitraries.just((Long) null), Arbitraries.longs(), Arbitraries.longs().between(0, VALID.length + 64));
    return Combinators.combine(flip.list().ofMaxSize(6), truncate, headerLength).as(Damage::new);
  }

  @Property(tries = 500, edgeCases = EdgeCasesMode.NONE)
  void damagedFilesOpenOrFailWithAClearError(@ForAll("damage") Damage damage) throws IOException {
    byte[] bytes = VALID.clone();
    for (int[] flip : damage.flips()) bytes[flip[0]] = (byte) flip[1];
    if (damage.declaredHeaderLength() != null) ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(0, damage.declaredHeaderLength());
    Path file = Files.createTempFile("damaged", ".safetensors");
    try {
      Files.write(file, java.util.Arrays.copyOf(bytes, damage.truncateTo()));
      try (SafetensorsFile opened = SafetensorsFile.open(file)) {
        for (String name : opened.entries().keySet()) {
          Tensor tensor = opened.tensor(name);
          assertEquals(tensor.numElements(), tensor.toFloatArray().length);
        }
      } catch (SafetensorsException expected) {
        // the file's fault, said in words
      }
    } finally {
      Files.deleteIfExists(file);
    }
  }

  private static byte[] validFile() {
    try {
      Path file = Files.createTempFile("valid", ".safetensors");
      new SafetensorsWriter()
          .add("a", DType.F32, new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6})
          .add("b", DType.BF16, new long[] {4}, new float[] {0.5f, -1, 2, 8})
          .add("c", DType.F16, new long[] {1, 2}, new float[] {3, 4})
          .write(file);
      byte[] bytes = Files.readAllBytes(file);
      Files.delete(file);
      return bytes;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
