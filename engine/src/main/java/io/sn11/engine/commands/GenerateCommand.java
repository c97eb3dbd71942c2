package io.sn11.engine.commands;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sn11.engine.GenerationOptions;
import io.sn11.engine.Generator;
import io.sn11.engine.Transformer;
import io.sn11.engine.backend.Backend;
import io.sn11.engine.data.Conversation;
import io.sn11.engine.data.Dataset;
import io.sn11.engine.tokenizer.ChatTemplate;
import io.sn11.engine.tokenizer.Message;
import io.sn11.engine.tokenizer.Tokenizer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Write the model's assistant reply to a prompt or to a conversation, with the model's chat template, "
                + "and print it. Generation stops at the template's end-of-turn marker, the model's EOS or --max-tokens.",
                "With --conversation the last assistant turn of the file is replaced by the model's own (as the judge step does)."})
public class GenerateCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin BackendOptions backendOptions;

    @Option(names = "--model", required = true, paramLabel = "DIR",
            description = "Model folder: config.json, *.safetensors, tokenizer.json.")
    Path model;

    static class Input {
        @Option(names = "--prompt", required = true, paramLabel = "TEXT", description = "One user turn.")
        String prompt;

        @Option(names = "--conversation", required = true, paramLabel = "FILE",
                description = "One conversation in the dataset's JSONL format (id, character, messages; the last message is "
                        + "the assistant turn the model rewrites).")
        Path conversation;
    }

    @ArgGroup(multiplicity = "1")
    Input input;

    @Option(names = "--max-tokens", defaultValue = "256", paramLabel = "N",
            description = "Longest reply in tokens. Default: ${DEFAULT-VALUE}.")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "0", paramLabel = "T",
            description = "Sampling temperature in [0, 0.2]; 0 is greedy and reproducible. Default: ${DEFAULT-VALUE}.")
    double temperature;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "N",
            description = "Seed of the sampler when the temperature is above 0. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--chat-template", defaultValue = "chatml", paramLabel = "NAME",
            description = "One of chatml, vicuna, zephyr, mistral, alpaca, llama2, llama3, llama3dot1, gemma2, qwen2dot5. Default: ${DEFAULT-VALUE}.")
    String chatTemplate;

    @Option(names = "--json", description = "Print the reply, its token count and the generation speed as JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        ChatTemplate template = ChatTemplate.byName(chatTemplate);
        GenerationOptions options = new GenerationOptions(maxTokens, temperature, seed, 1);
        List<Message> history = history();
        Generator.Result result;
        String backendName;
        try (Backend be = backendOptions.create(); Transformer t = Transformer.load(model, be);
             Tokenizer tok = Tokenizer.load(model)) {
            backendName = be.name();
            result = Generator.replies(t, tok, template, List.of(history), options);
        }
        Generator.Reply reply = result.replies().get(0);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            ObjectNode o = om.createObjectNode();
            o.put("reply", reply.text());
            o.put("tokens", reply.tokens());
            o.put("finish", reply.finish().name().toLowerCase(java.util.Locale.ROOT));
            o.put("prompt_tokens", result.promptTokens());
            o.put("seconds", result.nanos() / 1e9);
            o.put("tokens_per_second", result.tokensPerSecond());
            o.put("chat_template", template.id());
            o.put("backend", backendName);
            out.println(om.writeValueAsString(o));
        } else {
            out.println(reply.text());
        }
        out.flush();
        return 0;
    }

    /** The conversation up to the turn the model writes. */
    private List<Message> history() throws java.io.IOException {
        if (input.prompt != null) return List.of(Message.user(input.prompt));
        List<Conversation> conversations = Dataset.read(input.conversation).conversations();
        if (conversations.size() != 1) {
            throw new IllegalArgumentException(input.conversation + ": one conversation expected, found " + conversations.size());
        }
        List<Message> messages = conversations.get(0).messages();
        return messages.subList(0, messages.size() - 1);
    }
}
