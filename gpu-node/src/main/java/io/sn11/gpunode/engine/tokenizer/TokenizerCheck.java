package io.sn11.gpunode.engine.tokenizer;

import io.sn11.gpunode.engine.model.ModelException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Loads a tokenizer.json in a separate JVM before this one touches it. The native tokenizers library
 * aborts the whole process on some malformed files (a Rust panic), so a miner's file must never reach it
 * in the JVM that serves every evaluation slot.
 */
public final class TokenizerCheck {
  private static final Duration LIMIT = Duration.ofMinutes(2);

  private TokenizerCheck() {}

  /** Null when the file loads and encodes text; else why not, in words. */
  public static String problemWith(Path tokenizerFile) throws IOException, InterruptedException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process process =
        new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"), TokenizerCheck.class.getName(), tokenizerFile.toString())
            .redirectErrorStream(true)
            .start();
    try {
      if (!process.waitFor(LIMIT.toSeconds(), TimeUnit.SECONDS)) {
        return "loading " + tokenizerFile.getFileName() + " did not finish within " + LIMIT.toSeconds() + " s";
      }
      String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (process.exitValue() == 0) return null;
      List<String> lines = output.lines().filter(line -> line.startsWith("refused: ") || line.contains("panicked at")).toList();
      String why = lines.isEmpty() ? "the tokenizer library stopped with exit code " + process.exitValue() : lines.get(0).replaceFirst("^refused: ", "");
      return tokenizerFile.getFileName() + " is not a usable tokenizer: " + why;
    } finally {
      process.destroyForcibly();
    }
  }

  /** The separate JVM: exit 0 when the file loads and encodes, 1 with "refused: ..." when it is refused. */
  public static void main(String[] args) throws IOException {
    try (Tokenizer tokenizer = Tokenizer.load(Path.of(args[0]))) {
      tokenizer.encode("Hello, traveller. What brings you here?");
      System.exit(0);
    } catch (ModelException | IOException refused) {
      System.out.println("refused: " + refused.getMessage());
      System.exit(1);
    }
  }
}
