package io.sn11.engine.data;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

/**
 * Conversations in JSONL (one {@link Conversation} per line) with a version: "sha256:" and the first 16 hex digits of
 * the SHA-256 of the file's bytes, so any change to the data changes the version.
 */
public record Dataset(List<Conversation> conversations, String version) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public static Dataset read(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        return parse(bytes, file.toString());
    }

    public static Dataset parse(byte[] bytes, String where) {
        List<Conversation> out = new ArrayList<>();
        String[] lines = new String(bytes, StandardCharsets.UTF_8).split("\n");
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty()) continue;
            try {
                out.add(JSON.readValue(line, Conversation.class));
            } catch (IOException | IllegalArgumentException e) {
                throw new IllegalArgumentException(where + ": line " + (i + 1) + ": " + e.getMessage(), e);
            }
        }
        if (out.isEmpty()) throw new IllegalArgumentException(where + ": no conversations");
        return new Dataset(List.copyOf(out), versionOf(bytes));
    }

    public static String versionOf(byte[] bytes) {
        return "sha256:" + sha256(bytes).substring(0, 16);
    }

    /** SHA-256 (lower-case hex) of a dataset's bytes: its version is the first 16 digits. */
    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public byte[] toJsonl() {
        StringBuilder sb = new StringBuilder();
        try {
            for (Conversation c : conversations) sb.append(JSON.writeValueAsString(c)).append('\n');
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    public void write(Path file) throws IOException { Files.write(file, toJsonl()); }

    /**
     * n conversations chosen deterministically from (model hash, dataset version): a seeded partial Fisher-Yates
     * shuffle, so the same model on the same data is always scored on the same samples.
     */
    public List<Conversation> select(String modelHash, int n) {
        int count = Math.min(n, conversations.size());
        long seed;
        try {
            byte[] d = MessageDigest.getInstance("SHA-256")
                    .digest((modelHash + " " + version).getBytes(StandardCharsets.UTF_8));
            seed = 0;
            for (int i = 0; i < 8; i++) seed = (seed << 8) | (d[i] & 0xff);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        Random rng = new Random(seed);
        int[] idx = new int[conversations.size()];
        for (int i = 0; i < idx.length; i++) idx[i] = i;
        List<Conversation> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int j = i + rng.nextInt(idx.length - i);
            int t = idx[i]; idx[i] = idx[j]; idx[j] = t;
            out.add(conversations.get(idx[i]));
        }
        return out;
    }
}
