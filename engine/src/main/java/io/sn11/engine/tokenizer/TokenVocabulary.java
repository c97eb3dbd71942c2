package io.sn11.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;

/**
 * What each token id of a {@code tokenizer.json} writes, as bytes: the text a token adds when decoded, before it is
 * known whether a multi-byte UTF-8 character ends inside the next token. Special tokens (and ids without a token)
 * write nothing here: they are markers, never text.
 *
 * <p>Two vocabulary encodings: byte-level BPE (GPT-2's byte-to-character map, used by Llama 3, Qwen2 and the tiny
 * tokenizer) and SentencePiece-style BPE ({@code ▁} for a space, {@code <0xAB>} byte-fallback tokens, used by
 * Mistral and Llama 2), told apart by the tokenizer's decoder.
 */
public final class TokenVocabulary {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final char SENTENCEPIECE_SPACE = '\u2581';

    private final byte[][] bytes;

    private TokenVocabulary(byte[][] bytes) { this.bytes = bytes; }

    public static TokenVocabulary read(Path tokenizerJson) throws IOException {
        try (InputStream in = Files.newInputStream(tokenizerJson)) {
            return read(in);
        }
    }

    public static TokenVocabulary read(InputStream tokenizerJson) throws IOException {
        return of(JSON.readTree(tokenizerJson));
    }

    /** One past the largest token id. */
    public int size() { return bytes.length; }

    /** The bytes token {@code id} writes, or null for a special token or an id without a token. */
    public byte[] bytes(int id) {
        byte[] b = id >= 0 && id < bytes.length ? bytes[id] : null;
        return b == null ? null : b.clone();
    }

    /** GPT-2's reversible map from bytes to printable characters, as byte-level BPE vocabularies spell tokens. */
    public static char[] byteLevelAlphabet() {
        char[] map = new char[256];
        int shifted = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = printable ? (char) b : (char) (256 + shifted++);
        }
        return map;
    }

    private static TokenVocabulary of(JsonNode root) {
        JsonNode vocab = root.path("model").path("vocab");
        if (!"BPE".equals(root.path("model").path("type").asText()) || !vocab.isObject()) {
            throw new IllegalArgumentException("only BPE vocabularies are supported, this one is "
                    + root.path("model").path("type").asText("unknown"));
        }
        Decoding decoding = Decoding.of(root.path("decoder"));
        int size = 0;
        for (JsonNode id : vocab) size = Math.max(size, id.asInt() + 1);
        for (JsonNode t : root.path("added_tokens")) size = Math.max(size, t.path("id").asInt() + 1);
        byte[][] bytes = new byte[size][];
        for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            bytes[e.getValue().asInt()] = decoding.bytes(e.getKey());
        }
        // added tokens override the vocabulary: a special one is a marker, another is its content verbatim
        for (JsonNode t : root.path("added_tokens")) {
            bytes[t.path("id").asInt()] = t.path("special").asBoolean()
                    ? null : t.path("content").asText().getBytes(StandardCharsets.UTF_8);
        }
        return new TokenVocabulary(bytes);
    }

    private enum Decoding {
        BYTE_LEVEL, SENTENCEPIECE;

        private static final int[] FROM_BYTE_LEVEL = new int[512];
        static {
            Arrays.fill(FROM_BYTE_LEVEL, -1);
            char[] alphabet = byteLevelAlphabet();
            for (int b = 0; b < 256; b++) FROM_BYTE_LEVEL[alphabet[b]] = b;
        }

        static Decoding of(JsonNode decoder) {
            if (uses(decoder, "ByteLevel")) return BYTE_LEVEL;
            if (uses(decoder, "ByteFallback") || uses(decoder, "Metaspace")) return SENTENCEPIECE;
            throw new IllegalArgumentException("unsupported tokenizer decoder " + decoder
                    + ": constrained decoding reads byte-level and SentencePiece-style BPE vocabularies");
        }

        /** The decoder is of this type or a sequence containing one. */
        private static boolean uses(JsonNode decoder, String type) {
            if (type.equals(decoder.path("type").asText())) return true;
            for (JsonNode d : decoder.path("decoders")) if (uses(d, type)) return true;
            return false;
        }

        /** A vocabulary entry's bytes; null when it is not text in this encoding. */
        byte[] bytes(String token) {
            if (this == SENTENCEPIECE) {
                if (token.length() == 6 && token.startsWith("<0x") && token.endsWith(">")) {
                    return new byte[] {(byte) Integer.parseInt(token.substring(3, 5), 16)};
                }
                return token.replace(SENTENCEPIECE_SPACE, ' ').getBytes(StandardCharsets.UTF_8);
            }
            byte[] out = new byte[token.length()];
            for (int i = 0; i < token.length(); i++) {
                char c = token.charAt(i);
                int b = c < FROM_BYTE_LEVEL.length ? FROM_BYTE_LEVEL[c] : -1;
                if (b < 0) return null;
                out[i] = (byte) b;
            }
            return out;
        }
    }
}
