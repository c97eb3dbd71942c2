package io.sn11.engine.tokenizer;

import io.sn11.engine.tiny.TinyTokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class TokenizerTest {
    @TempDir static Path dir;
    static Tokenizer tok;

    @BeforeAll
    static void load() throws IOException {
        TinyTokenizer.write(dir.resolve("tokenizer.json"));
        tok = Tokenizer.load(dir);
    }

    @AfterAll static void close() { tok.close(); }

    @Test
    void roundTripsAnyText() {
        for (String s : new String[] {"Hello, world!", "the cat sat on the mat\n\nand then?", "Ünïcödé — 日本語 🙂",
                "  leading and trailing spaces  ", "tabs\tand\r\nnewlines", ""}) {
            assertEquals(s, tok.decode(tok.encode(s)), s);
        }
        String longText = "the story goes on and on. ".repeat(400);
        int[] ids = tok.encode(longText);
        assertTrue(ids.length > 1000, "no truncation at 512");
        assertEquals(longText, tok.decode(ids));
    }

    @Test
    void mergesApplyAndSpecialTokensAreSingleIds() {
        Map<String, Integer> vocab = TinyTokenizer.vocabulary();
        assertArrayEquals(new int[] {vocab.get("Ġthe")}, tok.encode(" the"));
        for (String s : TinyTokenizer.SPECIALS) {
            assertEquals(vocab.get(s), tok.singleTokenId(s), s);
        }
        int[] ids = tok.encode("<|im_start|>user\nhi<|im_end|>");
        assertEquals(vocab.get("<|im_start|>"), ids[0]);
        assertEquals(vocab.get("<|im_end|>"), ids[ids.length - 1]);
        assertEquals("<|im_start|>user\nhi<|im_end|>", tok.decode(ids));
        assertTrue(TinyTokenizer.size() >= 300 && TinyTokenizer.size() <= 600, "vocab " + TinyTokenizer.size());
    }
}
