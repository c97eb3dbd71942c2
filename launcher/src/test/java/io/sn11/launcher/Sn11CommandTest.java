package io.sn11.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The command line itself, run in-process: what --help shows for the root and for serve. */
class Sn11CommandTest {
  private record Run(int exitCode, String out, String err) {}

  private static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine commandLine = new CommandLine(new Sn11()).setCaseInsensitiveEnumValuesAllowed(true);
    commandLine.setOut(new PrintWriter(out, true));
    commandLine.setErr(new PrintWriter(err, true));
    int exitCode = commandLine.execute(args);
    return new Run(exitCode, out.toString(), err.toString());
  }

  @Test
  void rootHelpListsTheCommandsAndOptions() {
    Run run = run("--help");
    assertEquals(0, run.exitCode(), run.err());
    String help = run.out();
    assertTrue(help.startsWith("Usage: sn11"), help);
    for (String expected : new String[] {"-h, --help", "-V, --version", "serve", "gpu-node", "submit", "status", "weights", "generate", "help"}) {
      assertTrue(help.contains(expected), () -> "root help should mention " + expected + ":\n" + help);
    }
  }

  @Test
  void serveHelpListsItsOptionsWithDefaults() {
    Run run = run("serve", "--help");
    assertEquals(0, run.exitCode(), run.err());
    String help = run.out();
    assertTrue(help.startsWith("Usage: sn11 serve"), help);
    // picocli wraps long descriptions; compare with the line breaks folded into spaces.
    String flat = help.replaceAll("\\s+", " ");
    for (String expected :
        new String[] {"--data-dir", "--http-host", "--http-port", "--config", "default: ./data", "default: 127.0.0.1", "default: 8080", "0 picks a free one"}) {
      assertTrue(flat.contains(expected), () -> "serve help should mention " + expected + ":\n" + help);
    }
    // "sn11 help serve" says the same.
    assertEquals(help, run("help", "serve").out());
  }

  @Test
  void aGpuNodeWithoutASeedNodeIsRefusedBeforeItStarts() {
    Run help = run("gpu-node", "--help");
    assertEquals(0, help.exitCode(), help.err());
    String flat = help.out().replaceAll("\\s+", " ");
    for (String expected : new String[] {"--seed-node", "--model-store", "--slots", "--backend", "default: <data-dir>/models"}) {
      assertTrue(flat.contains(expected), () -> "gpu-node help should mention " + expected + ":\n" + help.out());
    }

    Run alone = run("gpu-node", "--data-dir", System.getProperty("java.io.tmpdir"));
    assertEquals(2, alone.exitCode(), alone.out());
    assertTrue(alone.err().contains("give --seed-node ADDRESS"), alone.err());
  }

  @Test
  void versionAndUnknownOptions() {
    Run version = run("--version");
    assertEquals(0, version.exitCode());
    assertTrue(version.out().startsWith("sn11 "), version.out());

    Run unknown = run("serve", "--no-such-option");
    assertEquals(2, unknown.exitCode());
    assertTrue(unknown.err().contains("--no-such-option"), unknown.err());
  }
}
