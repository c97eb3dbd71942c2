package io.sn11.engine.commands;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The engine's commands under one root, for running them without the launcher (the GPU bundle does:
 * {@code java -cp ... io.sn11.engine.commands.EngineCommands bench engine --model DIR}). The launcher registers the
 * same classes as its own subcommands; gpu-node's root adds its own to {@link #commandLine()}.
 */
@Command(name = "sn11-engine", mixinStandardHelpOptions = true,
        subcommands = {MakeTinyModelCommand.class, MakeDatasetCommand.class, EvalCommand.class, GenerateCommand.class,
                LogitsCommand.class, BenchCommand.class},
        description = "SN11 inference engine tools.")
public class EngineCommands implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() { spec.commandLine().usage(spec.commandLine().getOut()); }

    /** The root's command line, for adding subcommands before executing it. */
    public static CommandLine commandLine() { return new CommandLine(new EngineCommands()); }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
