package io.sn11.launcher;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code sn11 status}: GET /model_submission_details. */
@Command(name = "status", mixinStandardHelpOptions = true, description = "Print a model's record: status, scores, details.")
final class StatusCommand implements Callable<Integer> {
  @Mixin ApiClient client;
  @Mixin ModelOptions model;

  @Override
  public Integer call() throws Exception {
    return ApiClient.print(client.get("/model_submission_details?" + model.toQuery()));
  }
}
