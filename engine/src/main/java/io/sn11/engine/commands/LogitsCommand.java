package io.sn11.engine.commands;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sn11.engine.Transformer;
import io.sn11.engine.backend.Backend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "logits", mixinStandardHelpOptions = true,
        description = {"Run one teacher-forced forward pass over the given token ids and print the logits of every position "
                + "as JSON: {\"model\", \"tokens\", \"vocab_size\", \"logits\": [[...], ...]}. For parity checks against other "
                + "implementations."})
public class LogitsCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin BackendOptions backendOptions;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Model folder.")
    Path model;

    @Option(names = "--tokens", required = true, split = ",", paramLabel = "ID", description = "Comma-separated token ids, e.g. 1,2,3.")
    int[] tokens;

    @Override
    public Integer call() throws Exception {
        float[][] logits;
        int vocab;
        try (Backend be = backendOptions.create(); Transformer t = Transformer.load(model, be)) {
            vocab = t.config().vocabSize();
            for (int id : tokens) {
                if (id < 0 || id >= vocab) throw new IllegalArgumentException("token id " + id + " outside vocab of " + vocab);
            }
            logits = t.logits(tokens);
        }
        ObjectMapper om = new ObjectMapper();
        ObjectNode root = om.createObjectNode();
        root.put("model", model.toString());
        ArrayNode tk = root.putArray("tokens");
        for (int id : tokens) tk.add(id);
        root.put("vocab_size", vocab);
        ArrayNode rows = root.putArray("logits");
        for (float[] row : logits) {
            ArrayNode a = rows.addArray();
            for (float f : row) a.add(f);
        }
        spec.commandLine().getOut().println(om.writeValueAsString(root));
        spec.commandLine().getOut().flush();
        return 0;
    }
}
