package io.sn11.launcher;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code sn11 weights}: GET /weights (a preview with --current-block), or POST /admin/weights/fold with --fold. */
@Command(
    name = "weights",
    mixinStandardHelpOptions = true,
    description = {
      "Print the last folded weights (the moving average per uid).",
      "With --current-block: a preview of the win rates and weights that folding that block would give; nothing is persisted.",
      "With --fold --current-block: fold that block into the moving average (needs the admin token)."
    })
final class WeightsCommand implements Callable<Integer> {
  @Mixin ApiClient client;

  @Option(names = "--current-block", description = "The chain's current block.")
  Long currentBlock;

  @Option(names = "--fold", description = "Fold --current-block into the persisted moving average (POST /admin/weights/fold).")
  boolean fold;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (!fold) return ApiClient.print(client.get(currentBlock == null ? "/weights" : "/weights?current_block=" + currentBlock));
    if (currentBlock == null) throw new ParameterException(spec.commandLine(), "--fold needs --current-block");
    return ApiClient.print(client.post("/admin/weights/fold", ApiClient.JSON.createObjectNode().put("current_block", currentBlock), true));
  }
}
