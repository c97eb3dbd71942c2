package io.sn11.engine.commands;

import io.sn11.engine.safetensors.DType;
import io.sn11.engine.tiny.TinyModels;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "make-tiny-model", mixinStandardHelpOptions = true,
        description = {"Write a random-weight model folder (config.json, model.safetensors, tokenizer.json) that the engine "
                + "loads like a Hugging Face checkpoint. The tiny shape (hidden 64, 2 layers) is for tests; the 1b and 8b shapes "
                + "have Llama-3.2-1B's and Llama-3.1-8B's dimensions (about 2.5 GB and 16 GB in bf16, written streaming) for "
                + "benchmarks."})
public class MakeTinyModelCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder to create (or overwrite files in).")
    Path out;

    @Option(names = "--arch", defaultValue = "llama", paramLabel = "ARCH",
            description = "llama (tied embeddings, llama3 rope scaling), mistral, or qwen2 (q/k/v bias). Default: ${DEFAULT-VALUE}.")
    String arch;

    @Option(names = "--dtype", defaultValue = "f32", paramLabel = "DTYPE", description = "f32, f16 or bf16. Default: ${DEFAULT-VALUE}.")
    String dtype;

    @Option(names = "--seed", defaultValue = "42", paramLabel = "N", description = "Random seed. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--shape", defaultValue = "tiny", paramLabel = "SHAPE",
            description = "tiny, tiny128 (head dim 128, sizes off the GPU tiles), 1b or 8b (1b and 8b are always written as "
                    + "llama models). Default: ${DEFAULT-VALUE}.")
    String shape;

    @Override
    public Integer call() throws Exception {
        TinyModels.Shape s = TinyModels.Shape.parse(shape);
        // the tiny shapes (the tiny tokenizer's vocabulary) come in every arch
        TinyModels.Arch a = s.vocab() == 0 ? TinyModels.Arch.parse(arch) : TinyModels.Arch.LLAMA;
        DType d = DType.parse(dtype);
        long t0 = System.nanoTime();
        TinyModels.write(out, a, d, seed, s);
        long bytes = Files.size(out.resolve("model.safetensors"));
        spec.commandLine().getOut().printf("wrote %s (%s, %s, %s shape, %d bytes of weights) in %.1f s%n", out,
                a.name().toLowerCase(), d.name().toLowerCase(), shape, bytes, (System.nanoTime() - t0) / 1e9);
        spec.commandLine().getOut().flush();
        return 0;
    }
}
