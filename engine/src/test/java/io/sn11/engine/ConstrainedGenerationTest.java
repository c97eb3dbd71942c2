package io.sn11.engine;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sn11.engine.Generator.Finish;
import io.sn11.engine.Generator.Reply;
import io.sn11.engine.json.JsonConstraint;
import io.sn11.engine.json.JsonShape;
import io.sn11.engine.json.ShapeOracle;
import io.sn11.engine.json.TestShapes;
import io.sn11.engine.safetensors.DType;
import io.sn11.engine.tiny.TinyModels.Arch;
import io.sn11.engine.tokenizer.ChatTemplate;
import io.sn11.engine.tokenizer.Message;
import io.sn11.engine.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** A random-weight tiny model generating under the verdict's constraint: every reply a valid verdict, reproducibly. */
class ConstrainedGenerationTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final JsonShape VERDICT = TestShapes.verdict(500);
    static final ShapeOracle ORACLE = new ShapeOracle(VERDICT);

    @TempDir static Path dir;
    static LoadedModel loaded;
    static Transformer model;
    static Tokenizer tok;
    static JsonConstraint constraint;

    /** Twelve different conversations to judge. */
    static final List<List<Message>> PROMPTS = prompts();

    static List<List<Message>> prompts() {
        List<List<Message>> out = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            out.add(List.of(Message.system("Judge the replies; answer with the JSON verdict."),
                    Message.user("Conversation " + i + ": the innkeeper says " + "hello ".repeat(i) + "to the stranger.")));
        }
        return out;
    }

    @BeforeAll
    static void load() throws IOException {
        loaded = LoadedModel.write(dir.resolve("llama"), Arch.LLAMA, DType.F32, 11);
        model = loaded.model();
        tok = loaded.tokenizer();
        constraint = JsonConstraint.build(VERDICT, tok.vocabulary());
    }

    @AfterAll
    static void close() throws IOException {
        loaded.close();
    }

    static void assertValidVerdicts(List<Reply> replies) throws JsonProcessingException {
        assertEquals(PROMPTS.size(), replies.size());
        for (Reply r : replies) {
            assertEquals(Finish.END_OF_TURN, r.finish(), r.text());
            assertTrue(ORACLE.isDocument(r.text()), r.text());
            ShapeOracle.assertValid(VERDICT.toJsonSchema(), JSON.readTree(r.text()), "$");
        }
    }

    @Test
    void everyReplyIsAValidVerdictAtTemperatureZeroAndReproducible() throws JsonProcessingException {
        GenerationOptions batched = new GenerationOptions(256, 0, 0, 5, constraint);
        List<Reply> a = Generator.replies(model, tok, ChatTemplate.LLAMA3, PROMPTS, batched).replies();
        assertValidVerdicts(a);
        assertEquals(a, Generator.replies(model, tok, ChatTemplate.LLAMA3, PROMPTS, batched).replies());
        assertEquals(a, Generator.replies(model, tok, ChatTemplate.LLAMA3, PROMPTS,
                batched.withConstraint(JsonConstraint.build(VERDICT, tok.vocabulary()))).replies(),
                "a constraint with empty caches gives the same replies");
        List<Reply> oneByOne = Generator.replies(model, tok, ChatTemplate.LLAMA3, PROMPTS,
                new GenerationOptions(256, 0, 0, 1, constraint)).replies();
        assertEquals(a, oneByOne, "each sequence follows its own position: batching changes nothing");
    }

    @Test
    void everyReplyIsAValidVerdictWhenSampledAndTheSeedReproducesIt() throws JsonProcessingException {
        GenerationOptions sampled = new GenerationOptions(256, Sampler.MAX_TEMPERATURE, 42, 4, constraint);
        List<Reply> a = Generator.replies(model, tok, ChatTemplate.CHATML, PROMPTS, sampled).replies();
        assertValidVerdicts(a);
        assertEquals(a, Generator.replies(model, tok, ChatTemplate.CHATML, PROMPTS, sampled).replies());
    }

    @Test
    void theShortestLimitStillEndsInAVerdict() throws JsonProcessingException {
        GenerationOptions tight = new GenerationOptions(constraint.minTokens(), 0, 0, 6, constraint);
        List<Reply> replies = Generator.replies(model, tok, ChatTemplate.LLAMA3, PROMPTS, tight).replies();
        assertValidVerdicts(replies);
        for (Reply r : replies) assertTrue(r.tokens() <= constraint.minTokens());
        assertThrows(IllegalArgumentException.class,
                () -> new GenerationOptions(constraint.minTokens() - 1, 0, 0, 1, constraint));
    }

    @Test
    void withoutTheConstraintTheSameModelWritesNoVerdict() {
        for (Reply r : Generator.replies(model, tok, ChatTemplate.LLAMA3, PROMPTS, new GenerationOptions(256, 0, 0, 6)).replies()) {
            assertFalse(ORACLE.isDocument(r.text()), r.text());
        }
    }

    @Test
    void theTemplatesStopMarkersDoNotCutADocument() {
        // Alpaca stops at "###", which is text a reasoning may hold: under the constraint only the document's end counts
        String verdict = "{\"realism_reasoning\":\"### Response: in voice\",\"realism_win\":\"generated\","
                + "\"entertainment_reasoning\":\"\",\"entertainment_win\":\"tie\",\"coherency_reasoning\":\"ok\","
                + "\"coherency_win\":\"original\"}";
        int[] tokens = tok.encode(verdict);
        int[] next = {0};
        Generator.Result r = Generator.replies(model, tok, ChatTemplate.ALPACA, List.of(PROMPTS.get(0)), 256, 1,
                constraint, () -> logits -> tokens[next[0]++], f -> {});
        assertEquals(new Reply(verdict, tokens.length, Finish.END_OF_TURN), r.replies().get(0));
    }
}
