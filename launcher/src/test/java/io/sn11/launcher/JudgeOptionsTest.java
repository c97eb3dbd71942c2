package io.sn11.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@code --judge-model} stands for in the judge's settings. */
class JudgeOptionsTest {
  static Map<String, Object> settings(String judgeModel, String chatTemplate) {
    JudgeOptions options = new JudgeOptions();
    options.judgeModel = judgeModel;
    options.chatTemplate = chatTemplate;
    Map<String, Object> settings = new HashMap<>();
    options.putInto(settings);
    return settings;
  }

  @Test
  void withoutItTheConfiguredJudgeStays() {
    assertEquals(Map.of(), settings(null, null));
  }

  @Test
  void demoIsTheTinyJudgeOfTheModelStore() {
    assertEquals(
        Map.of("sn11.judge.kind", "engine", "sn11.judge.model.repository", "sn11-demo/tiny-judge", "sn11.judge.model.revision", "main",
            "sn11.judge.model.chat-template", "chatml"),
        settings("demo", null));
  }

  @Test
  void aFolderOrARepositoryWithItsRevision(@TempDir Path dir) throws Exception {
    Path folder = Files.createDirectories(dir.resolve("judge"));
    assertEquals(Map.of("sn11.judge.kind", "engine", "sn11.judge.model.path", folder.toString(), "sn11.judge.model.chat-template", "llama3"),
        settings(folder.toString(), "llama3"));
    assertEquals(Map.of("sn11.judge.kind", "engine", "sn11.judge.model.repository", "acme/judge-8b", "sn11.judge.model.revision", "v2"),
        settings("acme/judge-8b@v2", null));
    assertEquals("main", settings("acme/judge-8b", null).get("sn11.judge.model.revision"));
    IllegalArgumentException neither = assertThrows(IllegalArgumentException.class, () -> settings("no-such-folder", null));
    assertTrue(neither.getMessage().contains("'no-such-folder'"), neither.getMessage());
  }
}
