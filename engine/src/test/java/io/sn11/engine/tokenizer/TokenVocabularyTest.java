package io.sn11.engine.tokenizer;

import io.sn11.engine.tiny.TinyTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class TokenVocabularyTest {
    @TempDir static Path dir;

    static List<RealTokenizers.Named> realTokenizers() { return RealTokenizers.all(); }

    /** The token's text when its bytes are whole UTF-8 characters, else null. */
    static String text(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** Every token's bytes read as UTF-8 are what the tokenizer itself decodes the token to; specials are no text. */
    static void assertAgreesWithTheTokenizer(Tokenizer tok) {
        TokenVocabulary v = tok.vocabulary();
        int texts = 0, specials = 0;
        for (int id = 0; id < v.size(); id++) {
            byte[] b = v.bytes(id);
            if (b == null) {
                specials++;
                continue;
            }
            String t = text(b);
            if (t == null) continue; // part of a multi-byte character: the tokenizer shows U+FFFD for it alone
            assertEquals(tok.decode(new int[] {id}), t, "token " + id);
            texts++;
        }
        assertTrue(texts > v.size() / 2, texts + " of " + v.size() + " compared");
        assertTrue(specials >= 1, "a tokenizer has special tokens");
    }

    @Test
    void tinyTokenizerBytesAreItsDecodedText() throws IOException {
        TinyTokenizer.write(dir.resolve("tokenizer.json"));
        try (Tokenizer tok = Tokenizer.load(dir)) {
            assertAgreesWithTheTokenizer(tok);
            TokenVocabulary v = tok.vocabulary();
            assertSame(v, tok.vocabulary(), "read once");
            assertEquals(TinyTokenizer.size(), v.size());
            assertArrayEquals(new byte[] {(byte) 0xE6}, v.bytes(0xE6), "a raw byte, not its printable stand-in");
            assertArrayEquals(" the".getBytes(StandardCharsets.UTF_8), v.bytes(tok.singleTokenId(" the")));
            for (String s : TinyTokenizer.SPECIALS) assertNull(v.bytes(TinyTokenizer.vocabulary().get(s)), s);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("realTokenizers")
    void realTokenizerBytesAreItsDecodedText(RealTokenizers.Named t) {
        assertAgreesWithTheTokenizer(RealTokenizers.load(t));
    }

    @Test
    void sentencePieceVocabulariesMapTheSpaceMarkAndByteFallback() throws IOException {
        String json = """
                {"added_tokens": [{"id": 0, "content": "<unk>", "special": true}, {"id": 1, "content": "<s>", "special": true},
                                  {"id": 7, "content": "[TOOL]", "special": false}],
                 "decoder": {"type": "Sequence", "decoders": [
                     {"type": "Replace", "pattern": {"String": "\\u2581"}, "content": " "},
                     {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
                 "model": {"type": "BPE", "vocab": {"<unk>": 0, "<s>": 1, "<0x0A>": 2, "\\u2581the": 3, "<0xE6>": 4, "a": 5}}}
                """;
        TokenVocabulary v = TokenVocabulary.read(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)));
        assertEquals(8, v.size());
        assertNull(v.bytes(0));
        assertNull(v.bytes(1));
        assertArrayEquals(new byte[] {'\n'}, v.bytes(2));
        assertArrayEquals(" the".getBytes(StandardCharsets.UTF_8), v.bytes(3));
        assertArrayEquals(new byte[] {(byte) 0xE6}, v.bytes(4));
        assertNull(v.bytes(6), "an id without a token");
        assertArrayEquals("[TOOL]".getBytes(StandardCharsets.UTF_8), v.bytes(7), "a non-special added token is text");
    }

    @Test
    void otherVocabulariesAreRefused() {
        String wordPiece = """
                {"decoder": {"type": "WordPiece", "prefix": "##"}, "model": {"type": "BPE", "vocab": {"a": 0}}}""";
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TokenVocabulary.read(new ByteArrayInputStream(wordPiece.getBytes(StandardCharsets.UTF_8))));
        assertTrue(e.getMessage().contains("WordPiece"), e.getMessage());
        String unigram = """
                {"decoder": {"type": "Metaspace"}, "model": {"type": "Unigram", "vocab": [["a", 0.0]]}}""";
        assertThrows(IllegalArgumentException.class,
                () -> TokenVocabulary.read(new ByteArrayInputStream(unigram.getBytes(StandardCharsets.UTF_8))));
    }
}
