package io.sn11.engine.commands;

import io.sn11.engine.data.Dataset;
import io.sn11.engine.data.SyntheticDataset;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "make-dataset", mixinStandardHelpOptions = true,
        description = {"Write a synthetic roleplay dataset as JSONL (one conversation per line: id, character, messages; "
                + "the last message is the assistant turn that is scored). Same seed and count, same bytes."})
public class MakeDatasetCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "JSONL file to write.")
    Path out;

    @Option(names = "--count", defaultValue = "64", paramLabel = "N", description = "Conversations. Default: ${DEFAULT-VALUE}.")
    int count;

    @Option(names = "--seed", defaultValue = "1", paramLabel = "N", description = "Random seed. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Override
    public Integer call() throws Exception {
        Dataset d = SyntheticDataset.generate(seed, count);
        d.write(out);
        spec.commandLine().getOut().printf("wrote %s: %d conversations, version %s%n", out, count, d.version());
        spec.commandLine().getOut().flush();
        return 0;
    }
}
