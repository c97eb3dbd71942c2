package io.sn11.cluster.scoring;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Objects;

/**
 * The subnet's model id: SHA-256 of "namespace name chatTemplate hotkey" (UTF-8, single spaces),
 * first 16 hex digits read as an unsigned 64-bit integer, written in decimal. The hotkey is part
 * of it so two miners submitting the same repository still get different ids.
 */
public final class ModelHash {

    private ModelHash() {
    }

    public static String of(String namespace, String name, String chatTemplate, String hotkey) {
        String joined = String.join(" ",
                Objects.requireNonNull(namespace, "namespace"),
                Objects.requireNonNull(name, "name"),
                Objects.requireNonNull(chatTemplate, "chatTemplate"),
                Objects.requireNonNull(hotkey, "hotkey"));
        byte[] digest = sha256(joined.getBytes(StandardCharsets.UTF_8));
        // 16 hex digits are the first 8 bytes, big-endian.
        long first64Bits = 0;
        for (int i = 0; i < Long.BYTES; i++) {
            first64Bits = (first64Bits << 8) | (digest[i] & 0xFF);
        }
        // Unsigned: about half of all hashes have the top bit set and must not print as negative.
        return Long.toUnsignedString(first64Bits);
    }

    private static byte[] sha256(byte[] input) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(input);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform must provide SHA-256", e);
        }
    }
}
