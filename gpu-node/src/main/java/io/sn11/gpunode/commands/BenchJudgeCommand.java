package io.sn11.gpunode.commands;

import io.sn11.engine.data.Conversation;
import io.sn11.engine.data.SyntheticDataset;
import io.sn11.gpunode.judge.Comparison;
import io.sn11.gpunode.judge.EngineJudge;
import io.sn11.gpunode.judge.JudgeSettings;
import io.sn11.gpunode.judge.Judgement;
import io.sn11.gpunode.store.DemoModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sn11 bench judge}: the engine judge's throughput on synthetic comparisons (each synthetic conversation's last
 * turn against a model-like variant of it), after one warm-up batch that builds the constraint's tables.
 */
@Command(name = "judge", mixinStandardHelpOptions = true,
    description = "Engine judge throughput: judges N synthetic comparisons with a judge model folder (default: a tiny "
        + "random-weight judge written to a temporary folder) and prints verdicts/s, the valid-verdict fraction, the "
        + "batch size and generated tokens/s.")
public class BenchJudgeCommand implements Callable<Integer> {
    @Option(names = "--model", paramLabel = "DIR", description = "Judge model folder (config.json, *.safetensors, tokenizer.json). Default: the demo judge of sn11 serve --judge-model demo, a tiny random-weight model.")
    Path model;

    @Option(names = "--chat-template", defaultValue = "chatml", description = "The judge model's chat template. Default: ${DEFAULT-VALUE}.")
    String chatTemplate;

    @Option(names = "--comparisons", defaultValue = "32", paramLabel = "N", description = "Comparisons judged (timed). Default: ${DEFAULT-VALUE}.")
    int comparisons;

    @Option(names = "--batch-size", defaultValue = "8", description = "Comparisons per batched generation. Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--max-new-tokens", defaultValue = "512", description = "Longest verdict in tokens. Default: ${DEFAULT-VALUE}.")
    int maxNewTokens;

    @Option(names = "--backend", defaultValue = "auto", paramLabel = "NAME", description = "auto, cpu, scalar or cuda. Default: ${DEFAULT-VALUE}.")
    String backend;

    @Option(names = "--threads", defaultValue = "0", paramLabel = "N", description = "Threads of the cpu and scalar backends; 0 = one per core. Default: ${DEFAULT-VALUE}.")
    int threads;

    @Override
    public Integer call() throws Exception {
        Path dir = model;
        if (dir == null) {
            dir = Files.createTempDirectory("sn11-bench-judge-");
            DemoModels.writeJudge(dir);
        }
        JudgeSettings.EngineModel settings = new JudgeSettings.EngineModel("", "main", dir, chatTemplate, batchSize, maxNewTokens);
        try (EngineJudge judge = EngineJudge.load(dir, dir.toString(), settings, backend, threads)) {
            List<Comparison> work = comparisons(comparisons + batchSize);
            judge.judgeAll(work.subList(0, batchSize), f -> {}); // warm-up: the constraint's tables, the backend's workspace
            EngineJudge.Figures[] figures = new EngineJudge.Figures[1];
            long t0 = System.nanoTime();
            List<Judgement> judged = judge.judgeAll(work.subList(batchSize, work.size()), f -> {}, figures);
            double seconds = (System.nanoTime() - t0) / 1e9;
            long valid = judged.stream().filter(j -> j instanceof Judgement.Valid).count();
            System.out.printf(Locale.ROOT, "judge %s (%s), backend %s%n", judge.identity().describe(), chatTemplate, backend);
            System.out.printf(Locale.ROOT, "%d verdicts in %.2f s: %.2f verdicts/s, %.1f%% valid, batch size %d%n",
                judged.size(), seconds, judged.size() / seconds, 100.0 * valid / judged.size(), batchSize);
            System.out.printf(Locale.ROOT, "%d prompt tokens, %d generated tokens (%.1f per verdict): %.1f generated tokens/s%n",
                figures[0].promptTokens(), figures[0].generatedTokens(), (double) figures[0].generatedTokens() / judged.size(),
                figures[0].generatedTokens() / seconds);
            return valid == judged.size() ? 0 : 1;
        } finally {
            if (model == null) {
                try (var files = Files.list(dir)) {
                    for (Path f : files.toList()) Files.delete(f);
                }
                Files.delete(dir);
            }
        }
    }

    /** Adds this command under the {@code bench} command of {@code root} (the engine's benches, which know no judge). */
    public static CommandLine withJudgeBench(CommandLine root) {
        root.getSubcommands().get("bench").addSubcommand(new BenchJudgeCommand());
        return root;
    }

    /** Each synthetic conversation's last turn against the same turn with its sentences in reverse order. */
    static List<Comparison> comparisons(int n) {
        List<Comparison> out = new ArrayList<>();
        for (Conversation c : SyntheticDataset.generate(11, n).conversations()) {
            String last = c.messages().get(c.messages().size() - 1).content();
            List<String> sentences = new ArrayList<>(List.of(last.split("(?<=[.!?]) ")));
            java.util.Collections.reverse(sentences);
            out.add(Comparison.of(c, String.join(" ", sentences)));
        }
        return out;
    }
}
