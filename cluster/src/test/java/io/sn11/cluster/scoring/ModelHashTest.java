package io.sn11.cluster.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class ModelHashTest {

    /** The rule written out independently: hex digest, first 16 hex digits, base-16 BigInteger. */
    private static String expected(String joined) throws Exception {
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(joined.getBytes(StandardCharsets.UTF_8));
        String first16HexDigits = HexFormat.of().formatHex(digest).substring(0, 16);
        return new BigInteger(first16HexDigits, 16).toString();
    }

    @Test
    void matchesIndependentComputation() throws Exception {
        assertEquals(expected("org/x my-model chatml 5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"),
                ModelHash.of("org/x", "my-model", "chatml", "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"));
    }

    @Test
    void fixedVectorFromShell() {
        // printf 'ns name chatml hk' | sha256sum -> 6080c4a3d1621a0f...
        // python3 -c "print(int('6080c4a3d1621a0f',16))" -> 6953774032531626511
        assertEquals("6953774032531626511", ModelHash.of("ns", "name", "chatml", "hk"));
    }

    @Test
    void topBitSetIsReadUnsigned() {
        // printf 'a b c d' | sha256sum -> f82ce1b653e30b1c... (top bit set: a signed long would be negative)
        // python3 -c "print(int('f82ce1b653e30b1c',16))" -> 17882916393589082908 (> Long.MAX_VALUE 9223372036854775807)
        String hash = ModelHash.of("a", "b", "c", "d");
        assertEquals("17882916393589082908", hash);
        assertTrue(new BigInteger(hash).compareTo(BigInteger.valueOf(Long.MAX_VALUE)) > 0);
    }

    @Test
    void hashesUtf8Bytes() {
        // printf '%s' 'café model chatml hk' | sha256sum -> 2be9833d656266c1... ('é' is the two bytes c3 a9)
        // python3 -c "print(int('2be9833d656266c1',16))" -> 3164204512921675457
        assertEquals("3164204512921675457", ModelHash.of("café", "model", "chatml", "hk"));
    }

    @Test
    void hotkeyChangesTheHash() {
        // printf 'org model chatml hk1' | sha256sum -> 9cab319c5eea7153 -> 11289171438611362131
        // printf 'org model chatml hk2' | sha256sum -> 17d05ca86aef386d -> 1715973336446482541
        assertEquals("11289171438611362131", ModelHash.of("org", "model", "chatml", "hk1"));
        assertEquals("1715973336446482541", ModelHash.of("org", "model", "chatml", "hk2"));
        assertNotEquals(ModelHash.of("org", "model", "chatml", "hk1"), ModelHash.of("org", "model", "chatml", "hk2"));
    }

    @Test
    void nullPartIsRejected() {
        assertThrows(NullPointerException.class, () -> ModelHash.of("ns", "name", null, "hk"));
    }
}
