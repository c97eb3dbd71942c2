package io.sn11.engine.json;

import io.sn11.engine.json.JsonAutomaton.Position;
import io.sn11.engine.tokenizer.TokenVocabulary;

import java.util.Arrays;
import java.util.BitSet;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Constrained decoding over a tokenizer's vocabulary: at each step, the tokens that keep the generated text a prefix
 * of a document of the {@link JsonShape} that can still be completed within the tokens left. Special tokens are never
 * allowed; a complete document ends the reply, as EOS would.
 *
 * <p>Build one per tokenizer and shape and keep it: it holds the vocabulary as a {@link TokenTrie} and, per automaton
 * state, filled the first time a generation reaches that state, the table of the tokens allowed from it, each with the
 * characters it adds to the free string being written and how many tokens the document then needs at least. The
 * step's mask is then a pass over that table with the position's two counters (characters left in the string, tokens
 * left to the reply), never a walk of the vocabulary.
 *
 * <p>Completion within the limit: from every state, the fewest tokens that finish the document are known (each a
 * single-byte token, which byte-level vocabularies all have); a token is allowed only if at most that many remain
 * after it. Thread-safe: tables are immutable once made, and two threads making the same one agree.
 */
public final class JsonConstraint {
    private static final int UNREACHABLE = Integer.MAX_VALUE;
    private static final int NO_STRING_OPENED = -1;

    private final JsonAutomaton automaton;
    private final TokenTrie trie;
    private final int vocabularySize;
    private final byte[][] tokenBytes;
    private final int[] tokensToEnd;
    private final AtomicReferenceArray<Table> tables;

    /** Per state: the tokens that do not leave the shape from it, and what each costs. */
    private record Table(int[] tokens, int[] chars, int[] tokensToEndAfter) {}

    private JsonConstraint(JsonAutomaton automaton, TokenVocabulary vocabulary) {
        this.automaton = automaton;
        this.vocabularySize = vocabulary.size();
        this.tokenBytes = new byte[vocabularySize][];
        boolean[] singleByteToken = new boolean[256];
        for (int id = 0; id < vocabularySize; id++) {
            tokenBytes[id] = vocabulary.bytes(id);
            if (tokenBytes[id] != null && tokenBytes[id].length == 1) singleByteToken[tokenBytes[id][0] & 0xff] = true;
        }
        this.trie = TokenTrie.of(tokenBytes);
        this.tokensToEnd = automaton.distanceToEnd(singleByteToken);
        if (tokensToEnd[automaton.start().state()] == UNREACHABLE) {
            throw new IllegalArgumentException("the vocabulary lacks the single-byte tokens that spell the shape's documents");
        }
        this.tables = new AtomicReferenceArray<>(automaton.stateCount());
    }

    public static JsonConstraint build(JsonShape shape, TokenVocabulary vocabulary) {
        return new JsonConstraint(JsonAutomaton.compile(shape), vocabulary);
    }

    public Position start() { return automaton.start(); }

    /** The fewest tokens any reply under this constraint takes. */
    public int minTokens() { return tokensToEnd[automaton.start().state()]; }

    /** The document is complete: the reply ends here. */
    public boolean isComplete(Position p) { return automaton.isAccepting(p); }

    /**
     * The tokens allowed at {@code p} when {@code tokensLeft} tokens, this one included, may still be generated.
     * Never empty while the position was reached through allowed tokens with at least the tokens it needs left.
     */
    public BitSet allowed(Position p, int tokensLeft) {
        Table t = table(p.state());
        BitSet allowed = new BitSet(vocabularySize);
        for (int i = 0; i < t.tokens.length; i++) {
            if (t.chars[i] <= p.charsLeft() && t.tokensToEndAfter[i] <= tokensLeft - 1) allowed.set(t.tokens[i]);
        }
        return allowed;
    }

    /** Sets the logits of the tokens not {@link #allowed} to negative infinity. */
    public void mask(float[] logits, Position p, int tokensLeft) {
        BitSet allowed = allowed(p, tokensLeft);
        int first = allowed.nextSetBit(0);
        if (first < 0 || first >= logits.length) {
            throw new IllegalStateException("no token completes the document within " + tokensLeft + " tokens");
        }
        for (int id = allowed.nextClearBit(0); id < logits.length; id = allowed.nextClearBit(id + 1)) {
            logits[id] = Float.NEGATIVE_INFINITY;
        }
    }

    /** The position after {@code token}; it must be one the automaton can take from {@code p}. */
    public Position advance(Position p, int token) {
        byte[] bytes = token >= 0 && token < vocabularySize ? tokenBytes[token] : null;
        Position next = bytes == null || bytes.length == 0 ? null : automaton.walk(p, bytes);
        if (next == null) throw new IllegalArgumentException("token " + token + " leaves the document's shape");
        return next;
    }

    private Table table(int state) {
        Table t = tables.get(state);
        if (t == null) {
            t = walk(state);
            if (!tables.compareAndSet(state, null, t)) t = tables.get(state);
        }
        return t;
    }

    /**
     * Walks the whole trie from {@code state} in preorder, one automaton step per node, skipping the subtree of every
     * node the automaton refuses. Per depth it keeps the state, the characters the token has written into the string
     * it started in, and, once the token opens a new string, that string's remaining length (which can run out
     * inside the token).
     */
    private Table walk(int state) {
        int depthCap = trie.maxDepth + 1;
        int[] stateAt = new int[depthCap], charsAt = new int[depthCap], leftAt = new int[depthCap];
        stateAt[0] = state;
        leftAt[0] = NO_STRING_OPENED;
        IntList tokens = new IntList(), chars = new IntList(), after = new IntList();
        int n = trie.size();
        for (int i = 0; i < n; ) {
            int d = trie.depth[i], b = trie.label[i] & 0xff, from = stateAt[d - 1];
            int to = automaton.next(from, b);
            int written = charsAt[d - 1], left = leftAt[d - 1];
            boolean refused = to == JsonAutomaton.DEAD;
            switch (automaton.effect(from, b)) {
                case JsonAutomaton.OPEN -> left = automaton.bound(to);
                case JsonAutomaton.CONSUME -> {
                    if (left == NO_STRING_OPENED) written++;
                    else if (left == 0) refused = true;
                    else left--;
                }
                default -> { }
            }
            if (refused) {
                i = trie.subtreeEnd[i];
                continue;
            }
            stateAt[d] = to;
            charsAt[d] = written;
            leftAt[d] = left;
            if (tokensToEnd[to] != UNREACHABLE) {
                for (int k = trie.tokensFrom[i]; k < trie.tokensFrom[i + 1]; k++) {
                    tokens.add(trie.tokens[k]);
                    chars.add(written);
                    after.add(tokensToEnd[to]);
                }
            }
            i++;
        }
        return new Table(tokens.toArray(), chars.toArray(), after.toArray());
    }

    /** A growing int array. */
    private static final class IntList {
        private int[] values = new int[256];
        private int size;

        void add(int v) {
            if (size == values.length) values = Arrays.copyOf(values, size * 2);
            values[size++] = v;
        }

        int[] toArray() { return Arrays.copyOf(values, size); }
    }
}
