package io.sn11.engine.commands;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.sn11.engine.backend.Backend;
import io.sn11.engine.data.Dataset;
import io.sn11.engine.eval.EvalResult;
import io.sn11.engine.eval.Evaluation;
import io.sn11.engine.tokenizer.ChatTemplate;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Compute the eval score (teacher-forced top-10 n-gram score), creativity, forward latency and model size "
                + "of a model folder on a JSONL conversation dataset.",
                "Samples are chosen deterministically from --model-hash and the dataset version."})
public class EvalCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin BackendOptions backendOptions;

    @Option(names = "--model", required = true, paramLabel = "DIR",
            description = "Model folder: config.json, *.safetensors, tokenizer.json.")
    Path model;

    @Option(names = "--dataset", required = true, paramLabel = "FILE", description = "JSONL conversations (see make-dataset).")
    Path dataset;

    @Option(names = "--samples", defaultValue = "16", paramLabel = "N", description = "Conversations to score. Default: ${DEFAULT-VALUE}.")
    int samples;

    @Option(names = "--chat-template", defaultValue = "chatml", paramLabel = "NAME",
            description = "One of chatml, vicuna, zephyr, mistral, alpaca, llama2, llama3, llama3dot1, gemma2, qwen2dot5. Default: ${DEFAULT-VALUE}.")
    String chatTemplate;

    @Option(names = "--model-hash", defaultValue = "0", paramLabel = "HASH", description = "Seeds the sample choice. Default: ${DEFAULT-VALUE}.")
    String modelHash;

    @Option(names = "--max-tokens", defaultValue = "2048", paramLabel = "N",
            description = "Longest sample in tokens; longer ones lose context from the left. Default: ${DEFAULT-VALUE}.")
    int maxTokens;

    @Option(names = "--batch-size", defaultValue = "1", paramLabel = "N", description = "Samples per forward pass. Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Dataset d = Dataset.read(dataset);
        Evaluation.Options o = new Evaluation.Options(samples, modelHash, ChatTemplate.byName(chatTemplate), maxTokens,
                Math.max(1, batchSize));
        EvalResult r;
        try (Backend be = backendOptions.create()) {
            r = Evaluation.run(model, d, o, be);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(r));
        } else {
            out.printf("eval score %.6f, creativity %.6f, latency %.2f ms, size %d bytes (%d samples, %d target tokens, dataset %s, %s, %s)%n",
                    r.evalScore(), r.creativity(), r.latencyMs(), r.modelSizeBytes(), r.samples(), r.scoredTokens(),
                    r.datasetVersion(), r.backend(), r.engineVersion());
        }
        out.flush();
        return 0;
    }
}
