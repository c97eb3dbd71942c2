package io.sn11.engine.tokenizer;

import io.sn11.engine.model.ModelException;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A Hugging Face {@code tokenizer.json} through DJL's native binding. Encoding never adds special tokens: the chat
 * templates write BOS and turn markers into the text themselves, and the tokenizer recognises them there.
 */
public final class Tokenizer implements AutoCloseable {
    static {
        // The native library ships in DJL's jar: never reach out to the network (telemetry, EC2 metadata, downloads).
        if (System.getProperty("OPT_OUT_TRACKING") == null) System.setProperty("OPT_OUT_TRACKING", "true");
        if (System.getProperty("ai.djl.offline") == null) System.setProperty("ai.djl.offline", "true");
    }

    private final HuggingFaceTokenizer hf;
    private final byte[] json;
    private final String where;
    private TokenVocabulary vocabulary;

    private Tokenizer(HuggingFaceTokenizer hf, byte[] json, String where) {
        this.hf = hf;
        this.json = json;
        this.where = where;
    }

    /** Loads {@code tokenizer.json} from a model folder, or the given file: the file is read once, here. */
    public static Tokenizer load(Path modelDirOrFile) throws IOException {
        Path file = Files.isDirectory(modelDirOrFile) ? modelDirOrFile.resolve("tokenizer.json") : modelDirOrFile;
        if (!Files.isRegularFile(file)) throw new IOException(file + ": no tokenizer.json");
        return fromJson(Files.readAllBytes(file), file.toString());
    }

    /**
     * The tokenizer a {@code tokenizer.json}'s bytes describe; {@code where} names them in errors. Both the native
     * tokenizer and the {@link #vocabulary()} come from these bytes, never from a later read of the file.
     */
    public static Tokenizer fromJson(byte[] json, String where) {
        try {
            HuggingFaceTokenizer hf = HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json), Map.of(
                    "addSpecialTokens", "false",
                    "truncation", "false",
                    "padding", "false",
                    "modelMaxLength", String.valueOf(Integer.MAX_VALUE)));
            return new Tokenizer(hf, json, where);
        } catch (IOException | RuntimeException e) {
            // The native library refuses what it cannot parse: the repository's file is at fault.
            throw new ModelException(where + ": not a usable tokenizer: " + e.getMessage(), e);
        }
    }

    public int[] encode(String text) { return encode(text, false); }

    /** With {@code addSpecialTokens}, the tokenizer's own post-processor runs (e.g. Llama's leading BOS). */
    public int[] encode(String text, boolean addSpecialTokens) {
        Encoding e = hf.encode(text, addSpecialTokens, false);
        long[] ids = e.getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = Math.toIntExact(ids[i]);
        return out;
    }

    /** Decodes ids to text, special tokens included. */
    public String decode(int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) l[i] = ids[i];
        return hf.decode(l, false);
    }

    /**
     * Encodes the start of a prompt the way the model's tokenizer would by default: the special tokens its
     * post-processor puts in front (typically BOS) are added, unless the text already begins with them (templates
     * such as llama3 or mistral write BOS themselves). Tokens a post-processor appends (EOS) are not added.
     */
    public int[] encodePrompt(String text) {
        int[] plain = encode(text, false);
        int[] with = encode(text, true);
        int k = -1;
        for (int start = 0; start + plain.length <= with.length; start++) {
            if (java.util.Arrays.equals(with, start, start + plain.length, plain, 0, plain.length)) { k = start; break; }
        }
        if (k <= 0) return plain;
        boolean alreadyThere = plain.length >= k && java.util.Arrays.equals(with, 0, k, plain, 0, k);
        if (alreadyThere) return plain;
        int[] out = new int[k + plain.length];
        System.arraycopy(with, 0, out, 0, k);
        System.arraycopy(plain, 0, out, k, plain.length);
        return out;
    }

    /** The id of a string that encodes to exactly one token, else -1. */
    public int singleTokenId(String text) {
        int[] ids = encode(text);
        return ids.length == 1 ? ids[0] : -1;
    }

    /** Each token's bytes (for constrained decoding), parsed from the tokenizer's bytes once, on first use. */
    public synchronized TokenVocabulary vocabulary() {
        if (vocabulary == null) {
            try {
                vocabulary = TokenVocabulary.read(new ByteArrayInputStream(json));
            } catch (IOException e) {
                throw new UncheckedIOException(where + ": cannot read the vocabulary", e);
            }
        }
        return vocabulary;
    }

    @Override
    public void close() { hf.close(); }
}
