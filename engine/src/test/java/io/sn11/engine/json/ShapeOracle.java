package io.sn11.engine.json;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sn11.engine.json.JsonShape.EnumShape;
import io.sn11.engine.json.JsonShape.ObjectShape;
import io.sn11.engine.json.JsonShape.StringShape;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What the tests hold the automaton and the constraint to, stated independently of them: the documents of a shape as
 * one {@link java.util.regex.Pattern} (prefixes through {@link Matcher#hitEnd()}: a failed full match that ran into
 * the end of the text could still match a longer one), and a check of a parsed document against the shape's JSON
 * Schema (keys, enum values, lengths in code points).
 */
public final class ShapeOracle {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String WS = "[ \\t\\n\\r]{0," + JsonAutomaton.MAX_WHITESPACE + "}";
    private static final String HEX = "[0-9a-fA-F]";
    /** Any \\uXXXX but controls (0000-001F, 007F-009F) and surrogates (D800-DFFF). */
    private static final String UNICODE_ESCAPE = "\\\\u(?:00[2-6a-fA-F]" + HEX + "|007[0-9a-eA-E]|0[1-9a-fA-F]" + HEX
            + "{2}|[1-9a-cA-CeEfF]" + HEX + "{3}|[dD][0-7]" + HEX + "{2})";
    private static final String CHARACTER = "(?:[^\"\\\\\\p{Cc}]|\\\\[\"\\\\/nrt]|" + UNICODE_ESCAPE + ")";

    private final Pattern documents;

    public ShapeOracle(JsonShape shape) { documents = Pattern.compile(WS + regex(shape) + WS); }

    private static String regex(JsonShape shape) {
        return switch (shape) {
            case ObjectShape o -> o.properties().isEmpty() ? "\\{" + WS + "\\}" : o.properties().stream()
                    .map(p -> WS + Pattern.quote(quoted(p.name())) + WS + ":" + WS + regex(p.value()) + WS)
                    .collect(Collectors.joining(",", "\\{", "\\}"));
            case EnumShape e -> e.values().stream().map(v -> Pattern.quote(quoted(v))).collect(Collectors.joining("|", "(?:", ")"));
            case StringShape s -> "\"" + CHARACTER + "{0," + s.maxLength() + "}\"";
        };
    }

    private static String quoted(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A whole document of the shape. */
    public boolean isDocument(String text) { return onBigStack(() -> documents.matcher(text).matches()); }

    /** A document of the shape, or the beginning of one. */
    public boolean isPrefix(String text) {
        return onBigStack(() -> {
            Matcher m = documents.matcher(text);
            return m.matches() || m.hitEnd();
        });
    }

    /** java.util.regex recurses once per repetition of a group: a document of long strings needs a deep stack. */
    private static final ExecutorService BIG_STACK = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(null, r, "shape-oracle", 256L << 20);
        t.setDaemon(true);
        return t;
    });

    private static boolean onBigStack(Callable<Boolean> match) {
        try {
            return BIG_STACK.submit(match).get();
        } catch (InterruptedException | ExecutionException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code value} is valid under {@code schema} (the subset {@link JsonShape#toJsonSchema()} writes). */
    public static void assertValid(JsonNode schema, JsonNode value, String path) {
        switch (schema.get("type").asText()) {
            case "object" -> {
                assertTrue(value.isObject(), path + " is an object");
                Set<String> keys = new HashSet<>();
                value.fieldNames().forEachRemaining(keys::add);
                Set<String> required = new HashSet<>();
                schema.get("required").forEach(r -> required.add(r.asText()));
                assertTrue(keys.containsAll(required), path + " has every required key: " + keys);
                if (!schema.path("additionalProperties").asBoolean(true)) {
                    Set<String> declared = new HashSet<>();
                    schema.get("properties").fieldNames().forEachRemaining(declared::add);
                    assertTrue(declared.containsAll(keys), path + " has no other key: " + keys);
                }
                for (String k : keys) assertValid(schema.get("properties").get(k), value.get(k), path + "." + k);
            }
            case "string" -> {
                assertTrue(value.isTextual(), path + " is a string");
                String s = value.asText();
                if (schema.has("enum")) {
                    List<String> values = JSON.convertValue(schema.get("enum"), JSON.getTypeFactory()
                            .constructCollectionType(List.class, String.class));
                    assertTrue(values.contains(s), path + " = " + s + " is one of " + values);
                }
                if (schema.has("maxLength")) {
                    assertTrue(s.codePointCount(0, s.length()) <= schema.get("maxLength").asInt(), path + " is too long");
                }
            }
            default -> fail("unexpected schema type at " + path + ": " + schema);
        }
    }
}
