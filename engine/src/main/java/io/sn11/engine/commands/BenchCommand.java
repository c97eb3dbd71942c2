package io.sn11.engine.commands;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

@Command(name = "bench", mixinStandardHelpOptions = true, subcommands = {BenchEngineCommand.class, BenchKernelsCommand.class},
        description = "Benchmarks. Subcommands: engine (prefill, scoring and decode tokens/s of a model folder), kernels "
                + "(matmul TFLOP/s and GB/s on a model's shapes).")
public class BenchCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return CommandLine.ExitCode.USAGE;
    }
}
