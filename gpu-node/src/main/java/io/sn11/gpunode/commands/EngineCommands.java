package io.sn11.gpunode.commands;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The engine's commands under one root, for running them without the launcher
 * ({@code java -cp ... io.sn11.gpunode.commands.EngineCommands bench engine --model DIR}). The launcher registers the
 * same classes as its own subcommands.
 */
@Command(name = "sn11-engine", mixinStandardHelpOptions = true,
        subcommands = {MakeTinyModelCommand.class, MakeDatasetCommand.class, EvalCommand.class, GenerateCommand.class,
                LogitsCommand.class, BenchCommand.class, EvaluateChildCommand.class},
        description = "SN11 inference engine tools.")
public class EngineCommands implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() { spec.commandLine().usage(spec.commandLine().getOut()); }

    public static void main(String[] args) {
        System.exit(new CommandLine(new EngineCommands()).execute(args));
    }
}
