package io.sn11.launcher;

import io.sn11.engine.commands.BenchCommand;
import io.sn11.engine.commands.EvalCommand;
import io.sn11.engine.commands.GenerateCommand;
import io.sn11.engine.commands.LogitsCommand;
import io.sn11.engine.commands.MakeDatasetCommand;
import io.sn11.engine.commands.MakeTinyModelCommand;
import io.sn11.gpunode.commands.BenchJudgeCommand;
import io.sn11.gpunode.commands.EvaluateChildCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code sn11} command: every role of the cluster, the clients of its API, and the tools. */
@Command(
    name = "sn11",
    mixinStandardHelpOptions = true,
    versionProvider = Sn11.Version.class,
    description = "The SN11 scoring cluster: evaluates roleplay LLMs submitted by miners and serves statuses, leaderboards, win rates and weights.",
    subcommands = {
      ServeCommand.class,
      CoordinatorCommand.class,
      GpuNodeCommand.class,
      SubmitCommand.class,
      StatusCommand.class,
      WeightsCommand.class,
      MakeTinyModelCommand.class,
      MakeDatasetCommand.class,
      EvalCommand.class,
      GenerateCommand.class,
      LogitsCommand.class,
      BenchCommand.class,
      LoadtestCommand.class,
      EvaluateChildCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Sn11 {
  private static final String COMMON_POOL_PARALLELISM = "java.util.concurrent.ForkJoinPool.common.parallelism";

  public static void main(String[] args) {
    // The CompletionStages of Pekko's Java API run their first dependent on CompletableFuture's default
    // executor: the common pool, or a new thread for every task where that pool has fewer than two
    // threads (one or two cores). Measured on 2 cores: GET /model_submission_details at twice the rate
    // with two. Set before anything initialises the pool; an explicit -D setting wins.
    if (System.getProperty(COMMON_POOL_PARALLELISM) == null && Runtime.getRuntime().availableProcessors() < 3) {
      System.setProperty(COMMON_POOL_PARALLELISM, "2");
    }
    System.exit(BenchJudgeCommand.withJudgeBench(new CommandLine(new Sn11())).setCaseInsensitiveEnumValuesAllowed(true).execute(args));
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = Sn11.class.getPackage().getImplementationVersion();
      return new String[] {"sn11 " + (version == null ? "development build" : version)};
    }
  }
}
