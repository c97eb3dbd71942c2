package io.sn11.launcher;

import io.sn11.gpunode.commands.BenchCommand;
import io.sn11.gpunode.commands.EvalCommand;
import io.sn11.gpunode.commands.GenerateCommand;
import io.sn11.gpunode.commands.LogitsCommand;
import io.sn11.gpunode.commands.MakeDatasetCommand;
import io.sn11.gpunode.commands.MakeTinyModelCommand;
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
      CommandLine.HelpCommand.class
    })
public final class Sn11 {
  public static void main(String[] args) {
    System.exit(new CommandLine(new Sn11()).setCaseInsensitiveEnumValuesAllowed(true).execute(args));
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = Sn11.class.getPackage().getImplementationVersion();
      return new String[] {"sn11 " + (version == null ? "development build" : version)};
    }
  }
}
