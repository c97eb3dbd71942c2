package io.sn11.launcher;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code sn11 status}: GET /models/{hash}, our own route: 404 for a model nobody submitted (the subnet's route answers null). */
@Command(name = "status", mixinStandardHelpOptions = true, description = "Print a model's record: status, scores, details.")
final class StatusCommand implements Callable<Integer> {
  @Mixin ApiClient client;
  @Mixin ModelOptions model;

  @Override
  public Integer call() throws Exception {
    return ApiClient.print(client.get("/models/" + model.hash()));
  }
}
