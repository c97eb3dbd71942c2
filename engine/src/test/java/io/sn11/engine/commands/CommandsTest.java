package io.sn11.engine.commands;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sn11.engine.NaiveReferenceModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class CommandsTest {
    @TempDir Path dir;

    record Run(int code, String out, String err) {}

    static Run run(Object command, String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = new CommandLine(command);
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void everyCommandHasHelp() {
        for (Object c : new Object[] {new MakeTinyModelCommand(), new MakeDatasetCommand(), new EvalCommand(),
                new GenerateCommand(), new LogitsCommand(), new BenchCommand()}) {
            Run r = run(c, "--help");
            assertEquals(0, r.code());
            assertTrue(r.out().contains("Usage:"), r.out());
        }
        Run r = run(new BenchCommand(), "engine", "--help");
        assertTrue(r.out().contains("--prompt-tokens"), r.out());
    }

    @Test
    void makeModelThenLogitsEvalAndBench() throws Exception {
        Path m = dir.resolve("m");
        Run made = run(new MakeTinyModelCommand(), "--out", m.toString(), "--arch", "qwen2", "--dtype", "bf16", "--seed", "3");
        assertEquals(0, made.code(), made.err());
        assertTrue(Files.exists(m.resolve("config.json")) && Files.exists(m.resolve("tokenizer.json")));

        Run logits = run(new LogitsCommand(), "--model", m.toString(), "--tokens", "1,2,3", "--threads", "1");
        assertEquals(0, logits.code(), logits.err());
        JsonNode j = new ObjectMapper().readTree(logits.out());
        assertEquals(3, j.get("logits").size());
        double[][] ref = new NaiveReferenceModel(m).logits(new int[] {1, 2, 3});
        for (int p = 0; p < 3; p++) {
            assertEquals(ref[p].length, j.get("logits").get(p).size());
            for (int i = 0; i < ref[p].length; i += 17) {
                assertEquals(ref[p][i], j.get("logits").get(p).get(i).asDouble(), 2e-4 + 1e-3 * Math.abs(ref[p][i]));
            }
        }
        Run badToken = run(new LogitsCommand(), "--model", m.toString(), "--tokens", "999999");
        assertNotEquals(0, badToken.code());

        Path data = dir.resolve("d.jsonl");
        assertEquals(0, run(new MakeDatasetCommand(), "--out", data.toString(), "--count", "12").code());
        Run eval = run(new EvalCommand(), "--model", m.toString(), "--dataset", data.toString(), "--samples", "3",
                "--chat-template", "qwen2dot5", "--batch-size", "2", "--json");
        assertEquals(0, eval.code(), eval.err());
        JsonNode e = new ObjectMapper().readTree(eval.out());
        assertEquals(3, e.get("samples").asInt());
        assertTrue(e.get("evalScore").asDouble() > 0 && e.get("evalScore").asDouble() < 1);
        assertTrue(e.get("creativity").asDouble() > 0 && e.get("creativity").asDouble() < 1);
        assertEquals("cpu", e.get("backend").asText());
        assertTrue(e.get("datasetVersion").asText().startsWith("sha256:"));

        Run bench = run(new BenchCommand(), "engine", "--model", m.toString(), "--prompt-tokens", "16",
                "--decode-tokens", "4", "--repeats", "1", "--json");
        assertEquals(0, bench.code(), bench.err());
        JsonNode b = new ObjectMapper().readTree(bench.out());
        assertTrue(b.get("decode_tokens_per_second").asDouble() > 0);
        assertTrue(b.get("score_tokens_per_second").asDouble() > 0);
        assertEquals("cpu", b.get("backend").asText(), "auto without a device");

        Run kernels = run(new BenchCommand(), "kernels", "--model", m.toString(), "--rows", "8", "--repeats", "2",
                "--backend", "cpu", "--threads", "1", "--json");
        assertEquals(0, kernels.code(), kernels.err());
        JsonNode k = new ObjectMapper().readTree(kernels.out());
        assertEquals(8, k.get("shapes").size(), "seven projections and the lm head");
        assertEquals("gate_proj", k.get("shapes").get(4).get("name").asText());
        assertEquals(128, k.get("shapes").get(4).get("out").asInt());
        assertTrue(k.get("prefill_tflops").asDouble() > 0 && k.get("decode_gb_per_second").asDouble() > 0);

        Run unknown = run(new EvalCommand(), "--model", m.toString(), "--dataset", data.toString(), "--backend", "tpu");
        assertNotEquals(0, unknown.code());
        assertTrue(unknown.err().contains("unknown backend 'tpu'"), unknown.err());
    }

    @Test
    void theTiny128ShapeHasHeadDim128InTheAskedArch() throws Exception {
        Path m = dir.resolve("hd128");
        Run made = run(new MakeTinyModelCommand(), "--out", m.toString(), "--shape", "tiny128", "--arch", "qwen2");
        assertEquals(0, made.code(), made.err());
        JsonNode config = new ObjectMapper().readTree(m.resolve("config.json").toFile());
        assertEquals("qwen2", config.get("model_type").asText());
        assertEquals(128, config.get("head_dim").asInt());
        assertEquals(200, config.get("intermediate_size").asInt());
    }

    @Test
    void generatePrintsTheReplyToAPromptOrAConversation() throws Exception {
        Path m = dir.resolve("g");
        assertEquals(0, run(new MakeTinyModelCommand(), "--out", m.toString(), "--arch", "llama", "--seed", "4").code());
        Run plain = run(new GenerateCommand(), "--model", m.toString(), "--prompt", "Who are you?", "--max-tokens", "6",
                "--chat-template", "llama3", "--threads", "1");
        assertEquals(0, plain.code(), plain.err());
        Run json = run(new GenerateCommand(), "--model", m.toString(), "--prompt", "Who are you?", "--max-tokens", "6",
                "--chat-template", "llama3", "--threads", "1", "--json");
        assertEquals(0, json.code(), json.err());
        JsonNode j = new ObjectMapper().readTree(json.out());
        assertEquals(plain.out().strip(), j.get("reply").asText().strip(), "greedy: the same reply both times");
        assertTrue(j.get("tokens").asInt() >= 1 && j.get("tokens").asInt() <= 6, json.out());
        assertTrue(j.get("tokens_per_second").asDouble() > 0);
        assertEquals("llama3", j.get("chat_template").asText());

        Path conversation = dir.resolve("c.jsonl");
        Files.writeString(conversation, "{\"id\":\"c1\",\"character\":\"Mira\",\"messages\":["
                + "{\"role\":\"system\",\"content\":\"You are Mira.\"},{\"role\":\"user\",\"content\":\"Who are you?\"},"
                + "{\"role\":\"assistant\",\"content\":\"The innkeeper.\"}]}\n");
        Run fromFile = run(new GenerateCommand(), "--model", m.toString(), "--conversation", conversation.toString(),
                "--max-tokens", "4", "--temperature", "0.2", "--seed", "3", "--threads", "1", "--json");
        assertEquals(0, fromFile.code(), fromFile.err());
        assertTrue(new ObjectMapper().readTree(fromFile.out()).get("prompt_tokens").asInt() > 0);

        Run both = run(new GenerateCommand(), "--model", m.toString(), "--prompt", "x", "--conversation", conversation.toString());
        assertNotEquals(0, both.code());
        assertTrue(both.err().contains("mutually exclusive"), both.err());
        Run hot = run(new GenerateCommand(), "--model", m.toString(), "--prompt", "x", "--temperature", "0.7");
        assertNotEquals(0, hot.code());
        assertTrue(hot.err().contains("outside [0, 0.2]"), hot.err());
    }
}
