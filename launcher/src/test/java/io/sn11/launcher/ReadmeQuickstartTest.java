package io.sn11.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sn11.coordinator.http.ApiNode;
import io.sn11.coordinator.http.ApiNode.Model;
import io.sn11.launcher.fault.ClusterProcesses;
import io.sn11.launcher.fault.ClusterProcesses.Journal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The README as a newcomer follows it: the quickstart's own {@code ./sn11 submit} and {@code ./sn11 status}
 * commands, run against {@code sn11 serve} in its own JVM, end in a COMPLETED model with scores; a second
 * model from the same hotkey meets the window rule as the quickstart says; and every relative link of the
 * README points at a file of the repository (a clone has nothing outside it).
 */
class ReadmeQuickstartTest {
  private static final Pattern SN11_COMMAND = Pattern.compile("^\\./sn11 (submit|status) (.*)$");
  private static final Pattern RELATIVE_LINK = Pattern.compile("\\]\\((?!https?:|#)([^)#\\s]+)(#[^)]*)?\\)");

  @TempDir Path tmp;

  @Test
  void theQuickstartsDemoSubmissionCompletesAndASecondModelOfItsHotkeyMeetsTheWindow() throws Exception {
    List<String> submit = quickstartCommand("submit");
    List<String> status = quickstartCommand("status");
    Model demo = modelOf(submit);
    assertEquals(demo.hotkey(), option(status, "--hotkey"), "submit and status of the quickstart name the same model");

    try (ClusterProcesses cluster = ClusterProcesses.start(tmp)) {
      ClusterProcesses.Node serve = cluster.serve("quickstart", Journal.H2, "").start();
      ApiNode api = serve.api();
      String[] client = {"--url", api.base().toString(), "--token", ApiNode.TOKEN};

      assertEquals(0, run(submit, client), "the quickstart's submit command");
      JsonNode record =
          ApiNode.await(
              "the quickstart's demo model COMPLETED",
              Duration.ofMinutes(3),
              () -> api.get("/models/" + demo.hash()).expect(200).body(),
              r -> !r.path("status").asText().matches("QUEUED|PRECHECK|RUNNING"));
      assertEquals("COMPLETED", record.path("status").asText(), record::toString);
      assertTrue(record.at("/score/total_score").isNumber(), record::toString);
      assertEquals(0, run(status, client), "the quickstart's status command");

      // "a second submission from the same hotkey at block 101, say --name tiny-mistral, is recorded FAILED"
      Model second = new Model(demo.namespace(), "tiny-mistral", demo.template(), demo.hotkey(), demo.block() + 1);
      JsonNode refused = api.adminPost("/check_model", second.json()).expect(200).body();
      assertEquals("FAILED", refused.path("status").asText(), refused::toString);
      assertTrue(refused.at("/details/failure/reason").asText().contains("57600"), refused::toString);
      assertEquals("miner", refused.at("/details/failure/category").asText(), refused::toString);
    }
  }

  @Test
  void everyRelativeLinkOfTheReadmeIsAFileOfTheRepository() throws Exception {
    Path readme = readme();
    Matcher link = RELATIVE_LINK.matcher(Files.readString(readme, StandardCharsets.UTF_8));
    List<String> broken = new ArrayList<>();
    int links = 0;
    while (link.find()) {
      links++;
      Path target = readme.toAbsolutePath().getParent().resolve(link.group(1)).normalize();
      boolean inside = target.startsWith(readme.toAbsolutePath().getParent().normalize());
      if (!inside || !Files.exists(target)) broken.add(link.group(1));
    }
    assertTrue(links > 0, "the README links to files of the repository");
    assertEquals(List.of(), broken, "links of README.md that a clone cannot follow");
  }

  private static int run(List<String> command, String[] client) {
    List<String> args = new ArrayList<>(command);
    args.addAll(Arrays.asList(client));
    return new CommandLine(new Sn11()).execute(args.toArray(String[]::new));
  }

  /** The arguments of the quickstart's {@code ./sn11 <name> ...} command, its continuation lines joined. */
  private static List<String> quickstartCommand(String name) throws Exception {
    String text = Files.readString(readme(), StandardCharsets.UTF_8);
    int start = text.indexOf("## Quickstart");
    int end = text.indexOf("\n## ", start + 1);
    assertTrue(start >= 0 && end > start, "README.md has a Quickstart section");
    String joined = text.substring(start, end).replace("\\\n", " ");
    for (String line : joined.split("\n")) {
      Matcher command = SN11_COMMAND.matcher(line.strip());
      if (command.matches() && command.group(1).equals(name)) {
        String withoutComment = command.group(2).replaceAll("\\s+#.*$", "");
        List<String> args = new ArrayList<>(List.of(name));
        args.addAll(Arrays.asList(withoutComment.trim().split("\\s+")));
        return args;
      }
    }
    throw new AssertionError("the Quickstart has no ./sn11 " + name + " command");
  }

  private static Model modelOf(List<String> submit) {
    return new Model(
        option(submit, "--namespace"),
        option(submit, "--name"),
        option(submit, "--chat-template"),
        option(submit, "--hotkey"),
        Long.parseLong(option(submit, "--block")));
  }

  private static String option(List<String> args, String name) {
    int at = args.indexOf(name);
    assertFalse(at < 0 || at + 1 >= args.size(), name + " in " + args);
    return args.get(at + 1);
  }

  private static Path readme() {
    for (Path candidate : List.of(Path.of("..", "README.md"), Path.of("README.md"))) {
      if (Files.isRegularFile(candidate)) return candidate;
    }
    throw new IllegalStateException("README.md not found from " + Path.of("").toAbsolutePath());
  }
}
