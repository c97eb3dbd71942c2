package io.sn11.launcher;

import io.sn11.gpunode.store.DemoModels;
import io.sn11.gpunode.store.ModelStore;
import io.sn11.gpunode.store.StoreException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Option;

/** The judge model of a node that evaluates (mixed in with @Mixin): none (the configured judge), the demo judge, or a model. */
final class JudgeOptions {
  static final String DEMO = "demo";
  private static final Pattern REPOSITORY = Pattern.compile("([^/@\\s]+/[^/@\\s]+)(?:@([^/@\\s]+))?");

  @Option(
      names = "--judge-model",
      paramLabel = "demo|DIR|NAMESPACE/NAME[@REVISION]",
      description = {
        "Judge with a chat model run on this node's engine (sn11.judge.kind = engine): 'demo' (a tiny random-weight judge written into the model store: valid, meaningless verdicts), a local model folder, or a model store repository (fetched from the Hub when missing).",
        "Without it, the configured judge (default: the offline heuristic)."
      })
  String judgeModel;

  @Option(names = "--judge-chat-template", paramLabel = "NAME", description = "The judge model's chat template (default: sn11.judge.model.chat-template, chatml).")
  String chatTemplate;

  /** The settings the options stand for. */
  void putInto(Map<String, Object> options) {
    if (judgeModel == null) return;
    options.put("sn11.judge.kind", "engine");
    if (chatTemplate != null) options.put("sn11.judge.model.chat-template", chatTemplate);
    if (judgeModel.equals(DEMO)) {
      options.put("sn11.judge.model.repository", DemoModels.NAMESPACE + "/" + DemoModels.JUDGE);
      options.put("sn11.judge.model.revision", ModelStore.DEFAULT_REVISION);
      options.put("sn11.judge.model.chat-template", DemoModels.JUDGE_CHAT_TEMPLATE);
      return;
    }
    Path folder = Path.of(judgeModel);
    if (Files.isDirectory(folder)) {
      options.put("sn11.judge.model.path", folder.toAbsolutePath().normalize().toString());
      return;
    }
    Matcher repository = REPOSITORY.matcher(judgeModel);
    if (!repository.matches()) {
      throw new IllegalArgumentException("--judge-model must be demo, a model folder or namespace/name[@revision]; '" + judgeModel + "' is none of them");
    }
    options.put("sn11.judge.model.repository", repository.group(1));
    options.put("sn11.judge.model.revision", repository.group(2) != null ? repository.group(2) : ModelStore.DEFAULT_REVISION);
  }

  /** Writes the demo judge into {@code store} when it was asked for and is missing. */
  void ensureDemoJudge(ModelStore store) throws IOException, StoreException {
    if (DEMO.equals(judgeModel)) DemoModels.ensureJudge(store);
  }
}
