package io.sn11.engine.json;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.sn11.engine.json.JsonShape.EnumShape;
import io.sn11.engine.json.JsonShape.ObjectShape;
import io.sn11.engine.json.JsonShape.Property;
import io.sn11.engine.json.JsonShape.StringShape;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The byte-level automaton of a {@link JsonShape}: a deterministic machine over UTF-8 bytes that accepts exactly the
 * documents of the shape written as
 * <pre>ws { ws "key1" ws : ws value1 ws , ws "key2" ws : ws value2 ws } ws</pre>
 * where each {@code ws} is at most {@link #MAX_WHITESPACE} of space, tab, newline and carriage return (bounded, so
 * that a model cannot spend its tokens on blanks), keys come in the declared order, an enum value is written as
 * Jackson writes it, and a free string holds printable text: UTF-8 (validated: no overlong form, no surrogate), the
 * escapes {@code \" \\ \/ \n \r \t} and {@code \}{@code uXXXX}, no control character (raw or escaped, C0, DEL or C1:
 * such a character in a stored verdict only causes trouble downstream), at most its shape's length in characters.
 *
 * <p>With keys in a fixed order the language is regular, so its states are few and all made here: one per byte of
 * fixed text, {@code MAX_WHITESPACE + 1} per gap, a trie per enum, 19 per free string. The only unbounded part, a
 * string's remaining length, is not in the state: a {@link Position} carries it beside the state, so the states (and
 * everything cached per state) stay independent of how much was written.
 */
public final class JsonAutomaton {
    /** Whitespace bytes allowed between two tokens of the document (and before and after it). */
    public static final int MAX_WHITESPACE = 8;
    static final int DEAD = -1;

    /** What a transition does to the length budget of the free string being written. */
    static final byte KEEP = 0, CONSUME = 1, OPEN = 2;

    private static final int BYTES = 256;
    private static final byte[] WHITESPACE = {' ', '\t', '\n', '\r'};

    /** Where the automaton is: its state and, inside a free string, how many more characters the string may take. */
    public record Position(int state, int charsLeft) {}

    private final int[] next;      // [state * 256 + byte]: the next state or DEAD
    private final byte[] effect;   // [state * 256 + byte]: KEEP, CONSUME or OPEN
    private final int[] bound;     // per state: the max length of the free string it is in, -1 outside one
    private final boolean[] accepting;
    private final int start;

    private JsonAutomaton(Builder b, int start) {
        this.next = Arrays.copyOf(b.next, b.count * BYTES);
        this.effect = Arrays.copyOf(b.effect, b.count * BYTES);
        this.bound = Arrays.copyOf(b.bound, b.count);
        this.accepting = Arrays.copyOf(b.accepting, b.count);
        this.start = start;
    }

    public static JsonAutomaton compile(JsonShape shape) {
        List<Element> elements = new ArrayList<>();
        elements.add(new Gap());
        flatten(shape, elements);
        elements.add(new Gap());
        Builder b = new Builder();
        int following = DEAD; // built back to front: each element leads to the first state of the one after it
        for (int i = elements.size() - 1; i >= 0; i--) following = b.add(elements.get(i), following);
        return new JsonAutomaton(b, following);
    }

    public Position start() { return new Position(start, 0); }

    /** The position after {@code b}, or null when no document of the shape continues that way. */
    public Position step(Position p, int b) {
        int i = p.state() * BYTES + (b & 0xff);
        int to = next[i];
        if (to == DEAD) return null;
        return switch (effect[i]) {
            case CONSUME -> p.charsLeft() == 0 ? null : new Position(to, p.charsLeft() - 1);
            case OPEN -> new Position(to, bound[to]);
            default -> new Position(to, p.charsLeft());
        };
    }

    /** The position after all of {@code bytes}, or null when they leave the shape's documents. */
    public Position walk(Position p, byte[] bytes) {
        for (int i = 0; i < bytes.length && p != null; i++) p = step(p, bytes[i]);
        return p;
    }

    /** A complete document ends here (only whitespace may follow). */
    public boolean isAccepting(Position p) { return accepting[p.state()]; }

    int stateCount() { return bound.length; }

    int next(int state, int b) { return next[state * BYTES + b]; }

    byte effect(int state, int b) { return effect[state * BYTES + b]; }

    int bound(int state) { return bound[state]; }

    /**
     * Per state, the fewest bytes that complete a document from it, taking only bytes marked in {@code usable} and
     * never a character of a free string (so any remaining length will do); Integer.MAX_VALUE where none does.
     */
    int[] distanceToEnd(boolean[] usable) {
        int n = stateCount();
        List<List<Integer>> into = new ArrayList<>(n);
        for (int s = 0; s < n; s++) into.add(new ArrayList<>());
        for (int s = 0; s < n; s++) {
            for (int b = 0; b < BYTES; b++) {
                int to = next(s, b);
                if (to != DEAD && usable[b] && effect(s, b) != CONSUME) into.get(to).add(s);
            }
        }
        int[] distance = new int[n];
        Arrays.fill(distance, Integer.MAX_VALUE);
        ArrayDeque<Integer> queue = new ArrayDeque<>();
        for (int s = 0; s < n; s++) {
            if (accepting[s]) {
                distance[s] = 0;
                queue.add(s);
            }
        }
        while (!queue.isEmpty()) {
            int s = queue.poll();
            for (int from : into.get(s)) {
                if (distance[from] == Integer.MAX_VALUE) {
                    distance[from] = distance[s] + 1;
                    queue.add(from);
                }
            }
        }
        return distance;
    }

    /** The document as a sequence of pieces, each entered from the end of the one before. */
    private sealed interface Element {}

    private record Literal(byte[] bytes) implements Element {}

    private record Gap() implements Element {}

    private record Choice(List<byte[]> values) implements Element {}

    private record FreeString(int maxLength) implements Element {}

    private static void flatten(JsonShape shape, List<Element> out) {
        switch (shape) {
            case ObjectShape o -> {
                out.add(literal("{"));
                List<Property> props = o.properties();
                if (props.isEmpty()) out.add(new Gap());
                for (int i = 0; i < props.size(); i++) {
                    out.add(new Gap());
                    out.add(new Literal(quoted(props.get(i).name())));
                    out.add(new Gap());
                    out.add(literal(":"));
                    out.add(new Gap());
                    flatten(props.get(i).value(), out);
                    out.add(new Gap());
                    if (i < props.size() - 1) out.add(literal(","));
                }
                out.add(literal("}"));
            }
            case EnumShape e -> out.add(new Choice(e.values().stream().map(JsonAutomaton::quoted).toList()));
            case StringShape s -> out.add(new FreeString(s.maxLength()));
        }
    }

    private static Literal literal(String ascii) {
        return new Literal(ascii.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }

    /** A string as a JSON literal, UTF-8, with its quotes: prefix-free, since only the last quote is unescaped. */
    private static byte[] quoted(String s) {
        byte[] inner = JsonStringEncoder.getInstance().quoteAsUTF8(s);
        byte[] out = new byte[inner.length + 2];
        out[0] = '"';
        System.arraycopy(inner, 0, out, 1, inner.length);
        out[out.length - 1] = '"';
        return out;
    }

    /** Growing transition tables. */
    private static final class Builder {
        int[] next = new int[64 * BYTES];
        byte[] effect = new byte[64 * BYTES];
        int[] bound = new int[64];
        boolean[] accepting = new boolean[64];
        int count;

        int newState(int stringBound) {
            if (count == bound.length) {
                next = Arrays.copyOf(next, next.length * 2);
                effect = Arrays.copyOf(effect, effect.length * 2);
                bound = Arrays.copyOf(bound, bound.length * 2);
                accepting = Arrays.copyOf(accepting, accepting.length * 2);
            }
            Arrays.fill(next, count * BYTES, (count + 1) * BYTES, DEAD);
            bound[count] = stringBound;
            return count++;
        }

        void set(int from, int b, int to, byte how) {
            next[from * BYTES + b] = to;
            effect[from * BYTES + b] = how;
        }

        void setRange(int from, int lo, int hi, int to, byte how) {
            for (int b = lo; b <= hi; b++) set(from, b, to, how);
        }

        /** Adds the states of {@code e}, which leads to {@code following} (DEAD: the document's end); returns its first. */
        int add(Element e, int following) {
            return switch (e) {
                case Literal l -> literal(l.bytes(), following);
                case Gap g -> gap(following);
                case Choice c -> choice(c.values(), 0, following);
                case FreeString s -> freeString(s.maxLength(), following);
            };
        }

        private int literal(byte[] bytes, int following) {
            int target = following;
            for (int i = bytes.length - 1; i >= 0; i--) {
                int s = newState(-1);
                set(s, bytes[i] & 0xff, target, KEEP);
                target = s;
            }
            return target;
        }

        /**
         * States "k blanks written", k = MAX_WHITESPACE down to 0: each moves on like the following element's first
         * state (which never starts with a blank), and takes one more blank while k is below the bound. Before the
         * document's end, every one of them accepts.
         */
        private int gap(int following) {
            int moreBlanks = DEAD;
            for (int k = MAX_WHITESPACE; k >= 0; k--) {
                int s = newState(-1);
                if (following == DEAD) {
                    accepting[s] = true;
                } else {
                    System.arraycopy(next, following * BYTES, next, s * BYTES, BYTES);
                    System.arraycopy(effect, following * BYTES, effect, s * BYTES, BYTES);
                }
                if (moreBlanks != DEAD) for (byte w : WHITESPACE) set(s, w, moreBlanks, KEEP);
                moreBlanks = s;
            }
            return moreBlanks;
        }

        /** A trie of the values' bytes from {@code depth} on; a value's last byte leads to {@code following}. */
        private int choice(List<byte[]> values, int depth, int following) {
            int s = newState(-1);
            Map<Integer, List<byte[]>> byByte = new TreeMap<>();
            for (byte[] v : values) byByte.computeIfAbsent(v[depth] & 0xff, k -> new ArrayList<>()).add(v);
            byByte.forEach((b, group) -> {
                boolean ends = group.get(0).length == depth + 1;
                if (ends && group.size() != 1) throw new IllegalStateException("quoted values are prefix-free");
                set(s, b, ends ? following : choice(group, depth + 1, following), KEEP);
            });
            return s;
        }

        /**
         * The opening quote, then the body. A character's budget is taken at its first byte (a plain byte, a
         * backslash, a UTF-8 lead byte), so a position inside an escape or a multi-byte character has already paid
         * and can always finish it.
         */
        private int freeString(int maxLength, int following) {
            int body = newState(maxLength), escape = newState(maxLength);
            int cont1 = newState(maxLength), cont2 = newState(maxLength), cont3 = newState(maxLength);
            int afterC2 = newState(maxLength), afterE0 = newState(maxLength), afterED = newState(maxLength);
            int afterF0 = newState(maxLength), afterF4 = newState(maxLength);
            int hex1 = newState(maxLength), hex2 = newState(maxLength), hex2After0 = newState(maxLength);
            int hex2AfterD = newState(maxLength), hex3 = newState(maxLength), hex3After00 = newState(maxLength);
            int hex4 = newState(maxLength), hex4After007 = newState(maxLength);

            setRange(body, 0x20, 0x7E, body, CONSUME); // printable ASCII; DEL (0x7F) is a control character
            set(body, '"', following, KEEP);
            set(body, '\\', escape, CONSUME);
            // UTF-8 lead bytes (RFC 3629 table): C2 must not start a C1 control (U+0080..U+009F), E0/F0 must not be
            // overlong, ED must not encode a surrogate, F4 must stay at or below U+10FFFF
            set(body, 0xC2, afterC2, CONSUME);
            setRange(body, 0xC3, 0xDF, cont1, CONSUME);
            set(body, 0xE0, afterE0, CONSUME);
            setRange(body, 0xE1, 0xEC, cont2, CONSUME);
            set(body, 0xED, afterED, CONSUME);
            setRange(body, 0xEE, 0xEF, cont2, CONSUME);
            set(body, 0xF0, afterF0, CONSUME);
            setRange(body, 0xF1, 0xF3, cont3, CONSUME);
            set(body, 0xF4, afterF4, CONSUME);
            setRange(cont1, 0x80, 0xBF, body, KEEP);
            setRange(cont2, 0x80, 0xBF, cont1, KEEP);
            setRange(cont3, 0x80, 0xBF, cont2, KEEP);
            setRange(afterC2, 0xA0, 0xBF, body, KEEP);
            setRange(afterE0, 0xA0, 0xBF, cont1, KEEP);
            setRange(afterED, 0x80, 0x9F, cont1, KEEP);
            setRange(afterF0, 0x90, 0xBF, cont2, KEEP);
            setRange(afterF4, 0x80, 0x8F, cont2, KEEP);

            for (char c : "\"\\/nrt".toCharArray()) set(escape, c, body, KEEP); // \b and \f are control characters
            set(escape, 'u', hex1, KEEP);
            // \\uXXXX, refusing controls (0000-001F, 007F-009F) and surrogates (D800-DFFF)
            hexDigits(hex1, "123456789abcefABCEF", hex2);
            hexDigits(hex1, "0", hex2After0);
            hexDigits(hex1, "dD", hex2AfterD);
            hexDigits(hex2, "0123456789abcdefABCDEF", hex3);
            hexDigits(hex2After0, "123456789abcdefABCDEF", hex3);
            hexDigits(hex2After0, "0", hex3After00);
            hexDigits(hex2AfterD, "01234567", hex3);
            hexDigits(hex3, "0123456789abcdefABCDEF", hex4);
            hexDigits(hex3After00, "23456abcdefABCDEF", hex4);
            hexDigits(hex3After00, "7", hex4After007);
            hexDigits(hex4, "0123456789abcdefABCDEF", body);
            hexDigits(hex4After007, "0123456789abcdeABCDE", body);

            int open = newState(-1);
            set(open, '"', body, OPEN);
            return open;
        }

        private void hexDigits(int from, String digits, int to) {
            for (char c : digits.toCharArray()) set(from, c, to, KEEP);
        }
    }
}
