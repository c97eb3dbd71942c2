package io.sn11.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/**
 * A short benchmark on an embedded PostgreSQL: both comparisons measured and printed with their ratios,
 * and every accepted submission found in the journal. The figures themselves depend on the machine and
 * are not asserted.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class LoadBenchmarkTest {
  @Test
  void aShortBenchmarkPrintsBothRatiosAndLosesNothing() {
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream original = System.out;
    int exit;
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      exit = new CommandLine(new Sn11()).execute("loadtest", "--benchmark", "--duration", "2s", "--users", "2");
    } finally {
      System.setOut(original);
    }
    String report = captured.toString(StandardCharsets.UTF_8);
    assertEquals(0, exit, report);

    double details = figure(report, "GET /model_submission_details\\s+([\\d.]+) req/s");
    double trivial = figure(report, "GET /hc \\(trivial route\\)\\s+([\\d.]+) req/s");
    assertRatio(details, trivial, figure(report, "ratio details/trivial\\s+([\\d.]+)"), report);

    double submissions = figure(report, "submissions persisted \\(PostgreSQL journal via HTTP\\)\\s+([\\d.]+) /s");
    double plain = figure(report, "plain JDBC inserts \\(same row size, same concurrency\\)\\s+([\\d.]+) /s");
    assertRatio(submissions, plain, figure(report, "ratio submissions/plain JDBC\\s+([\\d.]+)"), report);
    // The node's own journal-write metric saw the submissions' writes.
    assertTrue(figure(report, "of which journal writes\\s+(\\d+) batches") > 0, report);
    assertTrue(figure(report, "batches, mean ([\\d.]+) ms") > 0, report);

    assertTrue(figure(report, "journal row of a submission (\\d+) bytes") > 0, report);
    assertTrue(figure(report, "plain row (\\d+) bytes") > 0, report);
    assertTrue(report.contains("lost: 0"), report);
  }

  /** Both figures positive, and the printed ratio their quotient to its three printed decimals. */
  private static void assertRatio(double numerator, double denominator, double printedRatio, String report) {
    assertTrue(numerator > 0, report);
    assertTrue(denominator > 0, report);
    assertTrue(printedRatio > 0, report);
    assertEquals(numerator / denominator, printedRatio, 0.0005 + 1e-9, report);
  }

  private static double figure(String report, String regex) {
    Matcher matcher = Pattern.compile(regex).matcher(report);
    assertTrue(matcher.find(), () -> "no match for " + regex + " in:\n" + report);
    return Double.parseDouble(matcher.group(1));
  }
}
