package io.sn11.engine.json;

import io.sn11.engine.tokenizer.TokenVocabulary;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * The vocabulary's token bytes as a trie, stored flat in preorder: node i has the byte {@code label[i]} at
 * {@code depth[i]} (1 for a first byte), its subtree is nodes i+1 .. {@code subtreeEnd[i]}-1, and the tokens whose
 * bytes end at it are {@code tokens[tokensFrom[i] .. tokensFrom[i+1])}. Walking it against an automaton visits each
 * shared prefix once and skips a whole subtree at the first byte the automaton refuses, without recursion.
 */
final class TokenTrie {
    final byte[] label;
    final int[] depth;
    final int[] subtreeEnd;
    final int[] tokensFrom;
    final int[] tokens;
    final int maxDepth;

    private TokenTrie(byte[] label, int[] depth, int[] subtreeEnd, int[] tokensFrom, int[] tokens, int maxDepth) {
        this.label = label;
        this.depth = depth;
        this.subtreeEnd = subtreeEnd;
        this.tokensFrom = tokensFrom;
        this.tokens = tokens;
        this.maxDepth = maxDepth;
    }

    int size() { return label.length; }

    /**
     * Every token that writes at least one byte ({@code bytes[id]}, as {@link TokenVocabulary#bytes} gives them);
     * special tokens and ids without a token (null) are left out.
     */
    static TokenTrie of(byte[][] bytes) {
        // sorted, a token follows every prefix of it and tokens sharing a prefix are adjacent: preorder falls out
        int[] ids = IntStream.range(0, bytes.length).filter(id -> bytes[id] != null && bytes[id].length > 0)
                .boxed().sorted(Comparator.comparing(id -> bytes[id], Arrays::compareUnsigned))
                .mapToInt(Integer::intValue).toArray();
        int capacity = 0, maxDepth = 0;
        for (int id : ids) {
            capacity += bytes[id].length;
            maxDepth = Math.max(maxDepth, bytes[id].length);
        }
        byte[] label = new byte[capacity];
        int[] depth = new int[capacity], subtreeEnd = new int[capacity], tokensFrom = new int[capacity + 1];
        int[] path = new int[maxDepth]; // path[d]: the node at depth d + 1 on the current branch
        int nodes = 0, pathLength = 0;
        byte[] previous = new byte[0];
        for (int k = 0; k < ids.length; k++) {
            byte[] b = bytes[ids[k]];
            int common = Arrays.mismatch(previous, b);
            if (common < 0) common = b.length; // the same bytes as the previous token: it ends at the same node
            while (pathLength > common) subtreeEnd[path[--pathLength]] = nodes;
            for (int d = common; d < b.length; d++) {
                label[nodes] = b[d];
                depth[nodes] = d + 1;
                tokensFrom[nodes] = k;
                path[pathLength++] = nodes++;
            }
            tokensFrom[nodes] = k + 1; // tokens end only at the newest node, so the next node's tokens start after
            previous = b;
        }
        while (pathLength > 0) subtreeEnd[path[--pathLength]] = nodes;
        return new TokenTrie(Arrays.copyOf(label, nodes), Arrays.copyOf(depth, nodes), Arrays.copyOf(subtreeEnd, nodes),
                Arrays.copyOf(tokensFrom, nodes + 1), ids, maxDepth);
    }
}
