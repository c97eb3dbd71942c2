package io.sn11.engine;

import io.sn11.engine.Generator.Finish;
import io.sn11.engine.Generator.Reply;
import io.sn11.engine.safetensors.DType;
import io.sn11.engine.tiny.TinyModels;
import io.sn11.engine.tiny.TinyModels.Arch;
import io.sn11.engine.tokenizer.ChatTemplate;
import io.sn11.engine.tokenizer.Message;
import io.sn11.engine.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class GeneratorTest {
    @TempDir static Path dir;
    static LoadedModel loaded;
    static Transformer model;
    static Tokenizer tok;

    static final List<List<Message>> HISTORIES = List.of(
            List.of(Message.system("You are Mira, a weary innkeeper."), Message.user("What brings you here?")),
            List.of(Message.user("Hello")),
            List.of(Message.user("Tell me about the storm."), Message.assistant("It comes at night."),
                    Message.user("Why do you keep looking at the door?")));

    @BeforeAll
    static void load() throws IOException {
        loaded = LoadedModel.write(dir.resolve("qwen"), Arch.QWEN2, DType.F32, 8); // EOS is <|im_end|>
        model = loaded.model();
        tok = loaded.tokenizer();
    }

    @AfterAll
    static void close() throws IOException {
        loaded.close();
    }

    /** A sampler per sequence that ignores the logits and emits {@code tokens}, then repeats the last one. */
    static Supplier<Sampler> forced(int[] tokens) {
        return () -> {
            int[] next = {0};
            return logits -> tokens[Math.min(next[0]++, tokens.length - 1)];
        };
    }

    static int[] concat(int[]... parts) {
        return Stream.of(parts).flatMapToInt(IntStream::of).toArray();
    }

    static Generator.Result generate(ChatTemplate template, List<List<Message>> histories, int maxNew, Supplier<Sampler> samplers) {
        return Generator.replies(model, tok, template, histories, maxNew, 4, null, samplers, f -> {});
    }

    @Test
    void greedyIsReproducibleAndBatchingChangesNothing() {
        GenerationOptions batched = new GenerationOptions(12, 0, 0, 3), oneByOne = new GenerationOptions(12, 0, 123, 1);
        Generator.Result a = Generator.replies(model, tok, ChatTemplate.CHATML, HISTORIES, batched);
        Generator.Result b = Generator.replies(model, tok, ChatTemplate.CHATML, HISTORIES, batched);
        Generator.Result c = Generator.replies(model, tok, ChatTemplate.CHATML, HISTORIES, oneByOne);
        assertEquals(a.replies(), b.replies());
        assertEquals(a.replies(), c.replies(), "temperature 0 ignores the seed; batching does not change a sequence");
        assertEquals(3, a.replies().size());
        assertEquals(a.generatedTokens(), a.replies().stream().mapToInt(Reply::tokens).sum());
        assertTrue(a.tokensPerSecond() > 0);
        // the first greedy token is the argmax after the prompt
        int[] prompt = tok.encodePrompt(ChatTemplate.CHATML.generationPrompt(HISTORIES.get(1)));
        float[][] logits = model.logits(prompt);
        int first = Sampler.argmax(logits[logits.length - 1]);
        Reply alone = Generator.reply(model, tok, ChatTemplate.CHATML, HISTORIES.get(1), new GenerationOptions(1, 0, 0, 1));
        assertEquals(tok.decode(new int[] {first}), alone.text());
        assertEquals(Finish.MAX_TOKENS, alone.finish());
    }

    @Test
    void seededSamplingIsReproducibleAndIndependentOfTheBatch() {
        GenerationOptions o = new GenerationOptions(10, Sampler.MAX_TEMPERATURE, 42, 3);
        List<Reply> a = Generator.replies(model, tok, ChatTemplate.ZEPHYR, HISTORIES, o).replies();
        List<Reply> b = Generator.replies(model, tok, ChatTemplate.ZEPHYR, HISTORIES, o).replies();
        assertEquals(a, b);
        for (int i = 0; i < HISTORIES.size(); i++) {
            assertEquals(a.get(i), Generator.reply(model, tok, ChatTemplate.ZEPHYR, HISTORIES.get(i), o));
        }
    }

    @Test
    void seededSamplerDrawsFromSoftmaxOverTemperature() {
        // logits 0 and 0.2 ln 3 at T = 0.2: weights 1 and 3, so token 1 three times in four
        float[] logits = {0f, (float) (0.2 * Math.log(3))};
        Sampler s = Sampler.seeded(0.2, 9);
        int ones = 0, draws = 20_000;
        for (int i = 0; i < draws; i++) ones += s.sample(logits);
        assertEquals(0.75, (double) ones / draws, 0.015);
        Sampler again = Sampler.seeded(0.2, 9), first = Sampler.seeded(0.2, 9);
        for (int i = 0; i < 100; i++) assertEquals(first.sample(logits), again.sample(logits));
    }

    @Test
    void temperatureOutsideZeroToPointTwoIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> Sampler.seeded(0.21, 1));
        assertThrows(IllegalArgumentException.class, () -> Sampler.seeded(-0.01, 1));
        assertThrows(IllegalArgumentException.class, () -> new GenerationOptions(8, Double.NaN, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new GenerationOptions(0, 0, 0, 1));
        assertEquals(3, Sampler.seeded(0, 1).sample(new float[] {0, 1, 2, 5, 5}), "greedy, lowest index on ties");
    }

    static Stream<Arguments> templateStops() {
        List<Arguments> out = new ArrayList<>();
        for (ChatTemplate t : ChatTemplate.values()) for (String s : t.stopStrings()) out.add(Arguments.of(t, s));
        return out.stream();
    }

    @ParameterizedTest(name = "{0} stops at {1}")
    @MethodSource("templateStops")
    void eachTemplateStopsAtItsEndMarkerAndCutsIt(ChatTemplate template, String stop) {
        int[] text = tok.encode("Hi there"), marker = tok.encode(stop), after = tok.encode(" and more");
        Reply r = generate(template, List.of(HISTORIES.get(0)), 64, forced(concat(text, marker, after))).replies().get(0);
        assertEquals("Hi there", r.text());
        assertEquals(Finish.END_OF_TURN, r.finish());
        assertEquals(text.length + marker.length, r.tokens(), "nothing is generated after the marker");
    }

    @Test
    void modelEosEndsTheReplyWhateverTheTemplate() {
        // the tiny Qwen2 model's EOS is <|im_end|>; Alpaca's markers do not include it
        int eos = model.config().eosTokenIds().get(0);
        assertFalse(ChatTemplate.ALPACA.stopStrings().contains(tok.decode(new int[] {eos})));
        int[] text = tok.encode("Fine");
        Reply r = generate(ChatTemplate.ALPACA, List.of(HISTORIES.get(1)), 64, forced(concat(text, new int[] {eos}, text)))
                .replies().get(0);
        assertEquals(new Reply("Fine", text.length + 1, Finish.END_OF_TURN), r);
    }

    @Test
    void tokenLimitAndFullContextEndTheReply() {
        int a = tok.encode("a")[0];
        Reply limited = generate(ChatTemplate.LLAMA3, List.of(HISTORIES.get(1)), 5, forced(new int[] {a})).replies().get(0);
        assertEquals(new Reply("aaaaa", 5, Finish.MAX_TOKENS), limited);

        // a conversation longer than the model's 512 positions loses its beginning and still gets its reply
        String longTurn = "word ".repeat(600);
        List<Message> history = List.of(Message.user(longTurn));
        assertTrue(tok.encodePrompt(ChatTemplate.CHATML.generationPrompt(history)).length > 512);
        Generator.Result r = generate(ChatTemplate.CHATML, List.of(history), 8, forced(new int[] {a}));
        assertEquals(new Reply("aaaaaaaa", 8, Finish.MAX_TOKENS), r.replies().get(0));
        assertEquals(512 - 8, r.promptTokens());
    }

    @Test
    void progressIsReportedPerBatch() {
        List<Double> progress = new ArrayList<>();
        Generator.replies(model, tok, ChatTemplate.CHATML, HISTORIES, new GenerationOptions(2, 0, 0, 2), progress::add);
        assertEquals(List.of(2.0 / 3, 1.0), progress);
    }
}
