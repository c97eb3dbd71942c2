package io.sn11.engine.json;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sn11.engine.json.JsonAutomaton.Position;
import io.sn11.engine.tiny.TinyTokenizer;
import io.sn11.engine.tokenizer.RealTokenizers;
import io.sn11.engine.tokenizer.TokenVocabulary;
import io.sn11.engine.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The token-level constraint on real vocabularies (Qwen3's, and any given in {@code -Dsn11.test.tokenizers}, e.g.
 * Llama 3's) and on the tiny tokenizer: random walks over the allowed tokens, each allowed set compared with the
 * automaton applied to every token, and with the {@link ShapeOracle} for tokens allowed and refused.
 */
class JsonConstraintTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final JsonShape VERDICT = TestShapes.verdict(500);
    static final ShapeOracle ORACLE = new ShapeOracle(VERDICT);
    static final Map<Path, JsonConstraint> CONSTRAINTS = new ConcurrentHashMap<>();

    @TempDir static Path dir;
    static Tokenizer tiny;

    @BeforeAll
    static void loadTiny() throws IOException {
        TinyTokenizer.write(dir.resolve("tokenizer.json"));
        tiny = Tokenizer.load(dir);
    }

    @AfterAll static void closeTiny() { tiny.close(); }

    static List<RealTokenizers.Named> realTokenizers() { return RealTokenizers.all(); }

    static JsonConstraint constraint(RealTokenizers.Named t) {
        return CONSTRAINTS.computeIfAbsent(t.file(), f -> JsonConstraint.build(VERDICT, RealTokenizers.load(t).vocabulary()));
    }

    static String text(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** What the automaton alone allows at {@code p}: every token whose bytes it can take from there. */
    static BitSet bruteForce(JsonAutomaton automaton, TokenVocabulary v, Position p) {
        BitSet out = new BitSet();
        for (int id = 0; id < v.size(); id++) {
            byte[] b = v.bytes(id);
            if (b != null && b.length > 0 && automaton.walk(p, b) != null) out.set(id);
        }
        return out;
    }

    /** The generated text is a valid beginning after each allowed token, and not after a refused one. */
    static void assertOracleAgrees(ShapeOracle oracle, TokenVocabulary v, byte[] written, BitSet allowed,
                                   SplittableRandom random) {
        for (boolean expected : new boolean[] {true, false}) {
            int checked = 0;
            for (int attempt = 0; attempt < 200 && checked < 10; attempt++) {
                int id = random.nextInt(v.size());
                if (allowed.get(id) != expected || v.bytes(id) == null || v.bytes(id).length == 0) continue;
                String text = text(concat(written, v.bytes(id)));
                if (text == null) continue; // ends inside a multi-byte character: the oracle reads text
                assertEquals(expected, oracle.isPrefix(text), (expected ? "allowed " : "refused ") + id + ": " + text);
                checked++;
            }
        }
    }

    /**
     * Generates one document by drawing allowed tokens at random within {@code budget} tokens: with probability
     * {@code quoteBias} among those that contain a quote (so strings end at varied lengths), or, when it is -1, among
     * those without a quote and else among those with one (so strings run to their bound); checks every
     * {@code checkEvery}-th step against the automaton and the oracle; returns the tokens.
     */
    static List<Integer> randomDocument(JsonConstraint c, TokenVocabulary v, long seed, int budget, double quoteBias,
                                        int checkEvery) {
        return randomDocument(VERDICT, ORACLE, c, v, seed, budget, quoteBias, checkEvery);
    }

    static List<Integer> randomDocument(JsonShape shape, ShapeOracle oracle, JsonConstraint c, TokenVocabulary v, long seed,
                                        int budget, double quoteBias, int checkEvery) {
        JsonAutomaton automaton = JsonAutomaton.compile(shape);
        int[] quotesOf = new int[v.size()];
        for (int id = 0; id < quotesOf.length; id++) quotesOf[id] = v.bytes(id) == null ? 0 : quotes(v.bytes(id));
        SplittableRandom random = new SplittableRandom(seed);
        Position p = c.start();
        ByteArrayOutputStream written = new ByteArrayOutputStream();
        List<Integer> tokens = new ArrayList<>();
        for (int left = budget; !c.isComplete(p); left--) {
            assertTrue(left > 0, "the document is complete within " + budget + " tokens");
            BitSet allowed = c.allowed(p, left), anyLength = c.allowed(p, Integer.MAX_VALUE);
            assertFalse(allowed.isEmpty());
            BitSet outside = (BitSet) allowed.clone();
            outside.andNot(anyLength);
            assertTrue(outside.isEmpty(), "the token limit only removes tokens");
            if (tokens.size() % checkEvery == 0) {
                assertEquals(bruteForce(automaton, v, p), anyLength, "at " + written);
                assertOracleAgrees(oracle, v, written.toByteArray(), anyLength, random);
            }
            int[] candidates = allowed.stream().toArray();
            if (quoteBias < 0) {
                for (int q = 0; q <= 1; q++) {
                    int n = q;
                    int[] biased = Arrays.stream(candidates).filter(id -> quotesOf[id] == n).toArray();
                    if (biased.length > 0) {
                        candidates = biased;
                        break;
                    }
                }
            } else if (random.nextDouble() < quoteBias) {
                int[] quoting = Arrays.stream(candidates).filter(id -> quotesOf[id] > 0).toArray();
                if (quoting.length > 0) candidates = quoting;
            }
            int token = candidates[random.nextInt(candidates.length)];
            written.writeBytes(v.bytes(token));
            tokens.add(token);
            p = c.advance(p, token);
        }
        return tokens;
    }

    static int quotes(byte[] bytes) {
        int n = 0;
        for (byte b : bytes) if (b == '"') n++;
        return n;
    }

    /** The tokens decode (by the tokenizer itself) to a document that parses and is valid under the schema. */
    static void assertValidDocument(Tokenizer tok, List<Integer> tokens) throws IOException {
        String text = tok.decode(tokens.stream().mapToInt(Integer::intValue).toArray());
        assertTrue(ORACLE.isDocument(text), text);
        ShapeOracle.assertValid(VERDICT.toJsonSchema(), JSON.readTree(text), "$");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("realTokenizers")
    void theFirstTokenOpensTheDocument(RealTokenizers.Named t) {
        JsonConstraint c = constraint(t);
        TokenVocabulary v = RealTokenizers.load(t).vocabulary();
        BitSet start = c.allowed(c.start(), Integer.MAX_VALUE);
        int braces = 0;
        for (int id = 0; id < v.size(); id++) {
            byte[] b = v.bytes(id);
            String text = b == null ? null : text(b);
            boolean expected = text != null && !text.isEmpty() && ORACLE.isPrefix(text);
            assertEquals(expected, start.get(id), id + ": '" + text + "'");
            if (expected) {
                assertTrue(text.matches("(?s)[ \\t\\n\\r]*(\\{.*)?"), "blanks, then '{' and what may follow it: " + text);
                if (text.contains("{")) braces++;
            }
        }
        assertTrue(braces > 1, "'{' and tokens beginning with it, e.g. '{\"' or '{\\n'");
        for (String s : List.of("{", " {", "\n", "{\n")) {
            int id = RealTokenizers.load(t).singleTokenId(s);
            if (id >= 0) assertTrue(start.get(id), s);
        }
        for (String s : List.of("[", "\"", "}", "{}", "a")) {
            int id = RealTokenizers.load(t).singleTokenId(s);
            if (id >= 0) assertFalse(start.get(id), s);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("realTokenizers")
    void randomWalksOverAllowedTokensEndInValidDocuments(RealTokenizers.Named t) throws IOException {
        JsonConstraint c = constraint(t);
        Tokenizer tok = RealTokenizers.load(t);
        double[] quoteBias = {-1, 0.0, 0.05, 0.3, 0.9};
        for (int walk = 0; walk < 10; walk++) {
            List<Integer> tokens = randomDocument(c, tok.vocabulary(), 1000 + walk, 400, quoteBias[walk % 5], 25);
            assertTrue(tokens.size() <= 400);
            assertValidDocument(tok, tokens);
            if (quoteBias[walk % 5] < 0) {
                String reasoning = JSON.readTree(tok.decode(tokens.stream().mapToInt(Integer::intValue).toArray()))
                        .get("realism_reasoning").asText();
                assertEquals(500, reasoning.codePointCount(0, reasoning.length()), "a string that avoids quotes ends at its bound");
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("realTokenizers")
    void theTokenLimitIsNeverExceeded(RealTokenizers.Named t) throws IOException {
        JsonConstraint c = constraint(t);
        Tokenizer tok = RealTokenizers.load(t);
        // the shortest document spelled one byte per token, then a little slack for longer tokens to fill
        for (int slack : new int[] {0, 1, 7, 40}) {
            List<Integer> tokens = randomDocument(c, tok.vocabulary(), slack, c.minTokens() + slack, 0, 50);
            assertTrue(tokens.size() <= c.minTokens() + slack);
            assertValidDocument(tok, tokens);
        }
    }

    /** Strings of 0 to 3 characters: tokens that open a string and write past its end inside the same token are refused. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("realTokenizers")
    void shortStringsFollowTheAutomatonAtEveryStep(RealTokenizers.Named t) throws IOException {
        List<JsonShape.Property> properties = new ArrayList<>();
        for (int n = 0; n <= 3; n++) properties.add(new JsonShape.Property("s" + n, new JsonShape.StringShape(n)));
        JsonShape shape = new JsonShape.ObjectShape(properties);
        ShapeOracle oracle = new ShapeOracle(shape);
        Tokenizer tok = RealTokenizers.load(t);
        JsonConstraint c = JsonConstraint.build(shape, tok.vocabulary());
        for (int walk = 0; walk < 4; walk++) {
            List<Integer> tokens = randomDocument(shape, oracle, c, tok.vocabulary(), walk, 100, walk * 0.3, 1);
            String text = tok.decode(tokens.stream().mapToInt(Integer::intValue).toArray());
            ShapeOracle.assertValid(shape.toJsonSchema(), JSON.readTree(text), "$");
        }
    }

    @Test
    void theTinyTokenizerFollowsTheAutomatonAtEveryStep() throws IOException {
        JsonConstraint c = JsonConstraint.build(VERDICT, tiny.vocabulary());
        assertEquals(("{\"realism_reasoning\":\"\",\"realism_win\":\"tie\",\"entertainment_reasoning\":\"\","
                + "\"entertainment_win\":\"tie\",\"coherency_reasoning\":\"\",\"coherency_win\":\"tie\"}").length(),
                c.minTokens(), "one byte per token");
        for (int walk = 0; walk < 20; walk++) {
            List<Integer> tokens = randomDocument(c, tiny.vocabulary(), walk, 300 + walk * 40, walk % 5 * 0.1, 1);
            assertValidDocument(tiny, tokens);
        }
    }

    @Test
    void specialTokensAndStrangersAreNeverTaken() {
        JsonConstraint c = JsonConstraint.build(VERDICT, tiny.vocabulary());
        int imEnd = TinyTokenizer.vocabulary().get("<|im_end|>");
        assertThrows(IllegalArgumentException.class, () -> c.advance(c.start(), imEnd));
        assertThrows(IllegalArgumentException.class, () -> c.advance(c.start(), tiny.singleTokenId("a")));
        assertThrows(IllegalArgumentException.class, () -> c.advance(c.start(), 1 << 20));
        float[] logits = new float[TinyTokenizer.size()];
        Arrays.fill(logits, 1f);
        c.mask(logits, c.start(), 1000);
        assertEquals(Float.NEGATIVE_INFINITY, logits[imEnd]);
        assertEquals(Float.NEGATIVE_INFINITY, logits[tiny.singleTokenId("a")]);
        assertEquals(1f, logits[tiny.singleTokenId("{")]);
        assertThrows(IllegalStateException.class, () -> c.mask(logits, c.start(), c.minTokens() - 1),
                "no document fits in fewer tokens than the shortest takes");
    }

    /**
     * Filling tables as positions are first reached and reading them from the cache give the same masks (the same
     * seeded walk twice). Nothing is asserted on time: the figures the report quotes are printed.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("realTokenizers")
    void cachedTablesGiveTheSameMasksAndTheCostIsPrinted(RealTokenizers.Named t) {
        TokenVocabulary v = RealTokenizers.load(t).vocabulary();
        long t0 = System.nanoTime();
        JsonConstraint c = JsonConstraint.build(VERDICT, v);
        long built = System.nanoTime();
        float[] logits = new float[v.size()];
        List<List<Integer>> documents = new ArrayList<>();
        long[] nanos = new long[2];
        int steps = 0;
        for (int pass = 0; pass < 2; pass++) {
            SplittableRandom random = new SplittableRandom(7);
            Position p = c.start();
            List<Integer> tokens = new ArrayList<>();
            for (int left = 300; !c.isComplete(p); left--) {
                Arrays.fill(logits, 0f);
                long s = System.nanoTime();
                c.mask(logits, p, left);
                nanos[pass] += System.nanoTime() - s;
                int[] allowed = java.util.stream.IntStream.range(0, logits.length).filter(i -> logits[i] == 0f).toArray();
                tokens.add(allowed[random.nextInt(allowed.length)]);
                p = c.advance(p, tokens.getLast());
            }
            documents.add(tokens);
            steps = tokens.size();
        }
        assertEquals(documents.get(0), documents.get(1));
        System.out.printf("constraint cost [%s, %d ids]: build %.0f ms; mask per step %.2f ms while filling tables, "
                        + "%.3f ms cached (%d steps)%n", t.name(), v.size(), (built - t0) / 1e6,
                nanos[0] / 1e6 / steps, nanos[1] / 1e6 / steps, steps);
    }
}
