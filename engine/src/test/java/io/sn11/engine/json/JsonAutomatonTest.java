package io.sn11.engine.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sn11.engine.json.JsonAutomaton.Position;
import io.sn11.engine.json.JsonShape.EnumShape;
import io.sn11.engine.json.JsonShape.ObjectShape;
import io.sn11.engine.json.JsonShape.StringShape;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The byte-level machine on hand-written documents and prefixes. */
class JsonAutomatonTest {
    static final ObjectMapper JSON = new ObjectMapper();
    /** {"why": at most 5 characters, "win": original|generated|tie} */
    static final JsonShape SHAPE = new ObjectShape(List.of(
            new JsonShape.Property("why", new StringShape(5)),
            new JsonShape.Property("win", new EnumShape(List.of("original", "generated", "tie")))));
    static final JsonAutomaton AUTOMATON = JsonAutomaton.compile(SHAPE);

    static Position walk(JsonAutomaton a, byte[] bytes) { return a.walk(a.start(), bytes); }

    static Position walk(String text) { return walk(AUTOMATON, text.getBytes(StandardCharsets.UTF_8)); }

    static boolean complete(String text) {
        Position p = walk(text);
        return p != null && AUTOMATON.isAccepting(p);
    }

    static void assertPrefix(String text) {
        Position p = walk(text);
        assertNotNull(p, "a valid prefix: " + text);
        assertFalse(AUTOMATON.isAccepting(p), "not yet complete: " + text);
    }

    static void assertRefused(String text) { assertNull(walk(text), "refused: " + text); }

    static String doc(String why) { return "{\"why\":\"" + why + "\",\"win\":\"tie\"}"; }

    @Test
    void acceptsCompactAndSpacedDocumentsAndTheirPrefixes() {
        assertTrue(complete(doc("abc")));
        assertTrue(complete("  {\n  \"why\" : \"abc\" ,\r\n\t\"win\": \"generated\"\n}\n"));
        String d = doc("ab");
        for (int i = 0; i < d.length(); i++) assertPrefix(d.substring(0, i));
        assertTrue(complete(d + " \n"), "blanks may follow the document");
        assertRefused(d + "x");
        assertRefused(d + "}");
    }

    @Test
    void keysComeInTheDeclaredOrderAndNoOtherKeyOrValue() {
        assertPrefix("{\"w"); // both keys start so, but only "why" may come first
        assertRefused("{\"wi");
        assertRefused("{\"what");
        assertRefused("{\"why\":\"a\",\"win\":\"tie\",");
        assertRefused("{\"why\":\"a\",\"win\":\"Tie\"");
        assertRefused("{\"why\":\"a\",\"win\":\"tiex");
        assertPrefix("{\"why\":\"a\",\"win\":\"ti");
        assertRefused("{\"why\":1");
        assertRefused("[");
    }

    @Test
    void whitespaceIsBoundedPerGap() {
        String max = " ".repeat(JsonAutomaton.MAX_WHITESPACE);
        assertTrue(complete(max + "{" + max + "\"why\"" + max + ":" + max + "\"a\"" + max + "," + max + "\"win\":\"tie\""
                + max + "}" + max));
        assertRefused(max + " {");
        assertRefused("{\"why\":" + max + "\t");
        assertRefused(doc("a") + max + "\n");
        assertRefused("{\"why\"\u00a0:"); // only JSON's four blanks
    }

    @Test
    void freeStringsCountCharactersNotBytesOrEscapeLetters() {
        assertTrue(complete(doc("abcde")));
        assertRefused(doc("abcdef"));
        assertTrue(complete(doc("\\n\\t\\\"\\\\\\/")), "five escapes are five characters");
        assertRefused(doc("\\n\\t\\\"\\\\\\/x"));
        assertTrue(complete(doc("é日🙂\\u00e9a")), "code points: 2, 3 and 4 bytes, a \\u escape");
        assertRefused(doc("é日🙂\\u00e9ab"));
        assertEquals(3, walk("{\"why\":\"ab").charsLeft());
        assertEquals(4, walk("{\"why\":\"\\u00").charsLeft(), "an escape is paid at its backslash");
        assertPrefix("{\"why\":\"abcd\\u00e");
        byte[] midCharacter = "{\"why\":\"\u65e5".getBytes(StandardCharsets.UTF_8); // 日, E6 97 A5: its first byte only
        assertNotNull(walk(AUTOMATON, java.util.Arrays.copyOf(midCharacter, midCharacter.length - 2)));
    }

    @Test
    void controlCharactersSurrogatesAndBadUtf8AreRefused() {
        for (String bad : List.of("\n", "\t", "\u0000", "\u007f", "\u0085", "\\b", "\\f", "\\x", "\\u0000", "\\u001F",
                "\\u007f", "\\u0080", "\\u009F", "\\uD800", "\\udfff", "\\u12G4")) {
            assertRefused(doc(bad));
        }
        for (String good : List.of("\\u0020", "\\u007E", "\\u00A0", "\\uD7FF", "\\uE000", "\\uFFFD", "\u00a0", "\u2028")) {
            assertTrue(complete(doc(good)), good);
        }
        String prefix = "{\"why\":\"";
        for (int[] bad : new int[][] {{0xC0, 0x80}, {0xC1, 0xBF}, {0xE0, 0x80, 0x80}, {0xED, 0xA0, 0x80},
                {0xF0, 0x80, 0x80, 0x80}, {0xF4, 0x90, 0x80, 0x80}, {0xF5}, {0x80}, {0xC3, 0x41}}) {
            byte[] bytes = java.util.Arrays.copyOf(prefix.getBytes(StandardCharsets.US_ASCII), prefix.length() + bad.length);
            for (int i = 0; i < bad.length; i++) bytes[prefix.length() + i] = (byte) bad[i];
            assertNull(walk(AUTOMATON, bytes), java.util.Arrays.toString(bad));
        }
    }

    @Test
    void emptyNestedAndOneValueShapes() {
        JsonAutomaton empty = JsonAutomaton.compile(new ObjectShape(List.of()));
        assertTrue(empty.isAccepting(walk(empty, "{ }".getBytes(StandardCharsets.US_ASCII))));
        JsonAutomaton nested = JsonAutomaton.compile(new ObjectShape(List.of(
                new JsonShape.Property("a", new ObjectShape(List.of(new JsonShape.Property("b", new StringShape(0))))),
                new JsonShape.Property("c\"d", new EnumShape(List.of("x", "é"))))));
        assertTrue(nested.isAccepting(walk(nested, "{\"a\":{\"b\":\"\"},\"c\\\"d\":\"é\"}".getBytes(StandardCharsets.UTF_8))));
        assertNull(walk(nested, "{\"a\":{\"b\":\"x".getBytes(StandardCharsets.UTF_8)), "a zero-length string");
    }

    @Test
    void distanceToEndIsTheShortestCompletion() {
        boolean[] all = new boolean[256];
        java.util.Arrays.fill(all, true);
        int[] distance = AUTOMATON.distanceToEnd(all);
        assertEquals(doc("").length(), distance[AUTOMATON.start().state()]);
        assertEquals("\",\"win\":\"tie\"}".length(), distance[walk("{\"why\":\"abc").state()]);
        assertEquals(4 + "\",\"win\":\"tie\"}".length(), distance[walk("{\"why\":\"abc\\u").state()]);
        assertEquals(0, distance[walk(doc("a")).state()]);
        boolean[] noT = all.clone();
        noT['t'] = false;
        assertEquals(doc("").length() + 5, AUTOMATON.distanceToEnd(noT)[AUTOMATON.start().state()], "'original' instead");
    }

    @Provide
    Arbitrary<String> reasons() {
        // any text without control characters, up to the bound
        return Arbitraries.strings().all().ofMaxLength(5)
                .filter(s -> s.codePoints().noneMatch(Character::isISOControl))
                .filter(s -> s.codePoints().allMatch(c -> Character.isValidCodePoint(c) && !Character.isSurrogate((char) c)))
                .filter(s -> s.codePointCount(0, s.length()) <= 5);
    }

    @Property(tries = 300)
    void everyDocumentJacksonWritesIsAcceptedAndReadsBack(@ForAll("reasons") String why,
                                                           @ForAll("sides") String win) throws Exception {
        JsonNode value = JSON.createObjectNode().put("why", why).put("win", win);
        for (String text : List.of(JSON.writeValueAsString(value), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(value))) {
            assertTrue(complete(text), text);
            assertEquals(value, JSON.readTree(text));
        }
    }

    @Provide
    Arbitrary<String> sides() { return Arbitraries.of("original", "generated", "tie"); }

    @Property(tries = 500)
    void everyAcceptedDocumentParsesToTheShape(@ForAll("documents") String text) throws Exception {
        if (!complete(text)) return;
        JsonNode v = JSON.readTree(text);
        assertEquals(List.of("why", "win"), iterable(v.fieldNames()));
        assertTrue(v.get("why").asText().codePointCount(0, v.get("why").asText().length()) <= 5);
        assertTrue(List.of("original", "generated", "tie").contains(v.get("win").asText()));
    }

    /** Documents with a random reason made of escapes, plain and multi-byte characters. */
    @Provide
    Arbitrary<String> documents() {
        Arbitrary<String> piece = Arbitraries.of("a", " ", "é", "🙂", "\\n", "\\\"", "\\u0041", "\\u00e9", "\\ud83d", "\\/");
        return piece.list().ofMaxSize(7).map(l -> doc(String.join("", l)));
    }

    static List<String> iterable(java.util.Iterator<String> it) {
        List<String> out = new java.util.ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }
}
