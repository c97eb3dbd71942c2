package io.sn11.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sn11.coordinator.http.ApiNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** A short load test against a real coordinator: every request type measured, every accepted submission found. */
class LoadtestCommandTest {
  @TempDir Path dir;

  @Test
  void aShortRunReportsEachRequestTypeAndLosesNothing() throws Exception {
    try (ApiNode node = ApiNode.start(dir)) {
      ByteArrayOutputStream captured = new ByteArrayOutputStream();
      PrintStream original = System.out;
      int exit;
      System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
      try {
        exit =
            new CommandLine(new Sn11())
                .execute("loadtest", "--target", node.base().toString(), "--token", ApiNode.TOKEN, "--duration", "4s", "--users", "4");
      } finally {
        System.setOut(original);
      }
      String report = captured.toString(StandardCharsets.UTF_8);
      assertEquals(0, exit, report);
      assertTrue(report.contains("lost: 0"), report);
      for (String type : new String[] {"submit", "status", "minerboard", "weights"}) {
        Matcher row = Pattern.compile("(?m)^" + type + "\\s+(\\d+)\\s.*\\s(\\d+)\\s+\\{").matcher(report);
        assertTrue(row.find(), () -> type + " row missing:\n" + report);
        assertTrue(Integer.parseInt(row.group(1)) > 0, () -> type + " sent nothing:\n" + report);
        assertEquals(0, Integer.parseInt(row.group(2)), () -> type + " had errors:\n" + report);
      }
      Matcher checked = Pattern.compile("accepted submissions: (\\d+), checked in the record: (\\d+)").matcher(report);
      assertTrue(checked.find(), report);
      assertEquals(checked.group(1), checked.group(2));
      assertTrue(Integer.parseInt(checked.group(1)) > 0, report);
    }
  }
}
