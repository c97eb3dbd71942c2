package io.sn11.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sn11.coordinator.http.ApiNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code sn11 weights}: reads the folded state, previews a block, and folds one only with --fold and the admin token. */
class WeightsCommandTest {
  @TempDir Path dir;

  private record Run(int exit, String out) {
    JsonNode json() throws Exception {
      return ApiNode.JSON.readTree(out);
    }
  }

  private static Run run(String... args) {
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream original = System.out;
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      int exit = new CommandLine(new Sn11()).execute(args);
      return new Run(exit, captured.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(original);
    }
  }

  @Test
  void readsPreviewsAndFoldsOnlyWhenAsked() throws Exception {
    try (ApiNode node = ApiNode.start(dir)) {
      String url = node.base().toString();
      assertEquals(2, run("weights", "--url", url, "--token", ApiNode.TOKEN, "--fold").exit(), "--fold without --current-block");

      Run preview = run("weights", "--url", url, "--current-block", "100");
      assertEquals(0, preview.exit(), preview.out());
      assertTrue(preview.json().get("preview").asBoolean(), preview.out());
      assertTrue(run("weights", "--url", url).json().get("last_folded_block").isNull(), "a preview folds nothing");

      Run fold = run("weights", "--url", url, "--token", ApiNode.TOKEN, "--fold", "--current-block", "100");
      assertEquals(0, fold.exit(), fold.out());
      assertFalse(fold.json().get("preview").asBoolean(), fold.out());
      Run read = run("weights", "--url", url);
      assertEquals(0, read.exit(), read.out());
      assertEquals(100, read.json().get("last_folded_block").asLong(), read.out());
      // The same block again is refused (409): exit code 1.
      assertEquals(1, run("weights", "--url", url, "--token", ApiNode.TOKEN, "--fold", "--current-block", "100").exit());
    }
  }
}
