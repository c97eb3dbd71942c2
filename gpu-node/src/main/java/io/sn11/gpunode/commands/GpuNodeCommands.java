package io.sn11.gpunode.commands;

import io.sn11.engine.commands.EngineCommands;

/**
 * The engine's commands plus gpu-node's own ({@code evaluate-child}, {@code bench judge}), without the launcher: the main class of the
 * evaluation JVM that {@link io.sn11.gpunode.worker.EvaluationProcess} starts.
 */
public final class GpuNodeCommands {
    private GpuNodeCommands() {}

    public static void main(String[] args) {
        System.exit(BenchJudgeCommand.withJudgeBench(EngineCommands.commandLine().addSubcommand(new EvaluateChildCommand())).execute(args));
    }
}
