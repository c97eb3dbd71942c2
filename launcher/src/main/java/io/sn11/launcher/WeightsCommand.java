package io.sn11.launcher;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code sn11 weights}: GET /weights. */
@Command(
    name = "weights",
    mixinStandardHelpOptions = true,
    description = "Compute win rates and weights at a block, fold them into the moving average, and print them.")
final class WeightsCommand implements Callable<Integer> {
  @Mixin ApiClient client;

  @Option(names = "--current-block", required = true, description = "The chain's current block.")
  long currentBlock;

  @Option(names = "--burn-uid", description = "A uid that receives a fixed share of every step.")
  Integer burnUid;

  @Option(names = "--burn-share", description = "The burn uid's share, in [0, 1].")
  Double burnShare;

  @Override
  public Integer call() throws Exception {
    String query = "/weights?current_block=" + currentBlock;
    if (burnUid != null) query += "&burn_uid=" + burnUid;
    if (burnShare != null) query += "&burn_share=" + burnShare;
    return ApiClient.print(client.get(query));
  }
}
