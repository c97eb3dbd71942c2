package io.sn11.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sn11.coordinator.http.ApiNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code sn11 status} against a real coordinator: a model nobody submitted is an error, a submitted one prints its record. */
class StatusCommandTest {
  @TempDir Path dir;

  private record Run(int exitCode, String out, String err) {}

  private static Run status(ApiNode node, ApiNode.Model model) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream originalOut = System.out;
    PrintStream originalErr = System.err;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      int exit =
          new CommandLine(new Sn11())
              .execute(
                  "status", "--url", node.base().toString(), "--namespace", model.namespace(), "--name", model.name(), "--chat-template",
                  model.template(), "--hotkey", model.hotkey());
      return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(originalOut);
      System.setErr(originalErr);
    }
  }

  @Test
  void anUnknownModelIsAnErrorAndASubmittedOnePrintsItsRecord() throws Exception {
    try (ApiNode node = ApiNode.start(dir)) {
      ApiNode.Model model = ApiNode.model("status-org", "model", ApiNode.hotkey("status"), 10);
      Run unknown = status(node, model);
      assertEquals(1, unknown.exitCode(), unknown.out());
      assertTrue(unknown.err().contains("HTTP 404") && unknown.err().contains(model.hash()), unknown.err());

      node.adminPost("/check_model", model.json()).expect(200);
      Run known = status(node, model);
      assertEquals(0, known.exitCode(), known.err());
      assertTrue(known.out().contains("\"QUEUED\"") && known.out().contains(model.hash()), known.out());
    }
  }
}
