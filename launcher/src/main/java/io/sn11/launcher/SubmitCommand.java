package io.sn11.launcher;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code sn11 submit}: POST /check_model with the admin token. */
@Command(
    name = "submit",
    mixinStandardHelpOptions = true,
    description = "Submit a model for evaluation (POST /check_model) and print its record.")
final class SubmitCommand implements Callable<Integer> {
  @Mixin ApiClient client;
  @Mixin ModelOptions model;

  @Option(names = "--block", required = true, description = "Block at which the miner committed the model.")
  long block;

  @Option(names = "--revision", description = "Pinned revision (commit) of the repository; default main.")
  String revision;

  @Override
  public Integer call() throws Exception {
    ObjectNode body = model.toJson().put("block", block);
    if (revision != null) body.put("revision", revision);
    return ApiClient.print(client.post("/check_model", body, true));
  }
}
