package io.sn11.engine.tiny;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sn11.engine.tokenizer.TokenVocabulary;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * Builds a small but real Hugging Face {@code tokenizer.json}: byte-level BPE (GPT-2 byte alphabet, so any UTF-8
 * text encodes and decodes losslessly), a few dozen merges of common English fragments, and the special tokens
 * every supported chat template uses.
 */
public final class TinyTokenizer {
    private TinyTokenizer() {}

    /** Special tokens, in id order after the byte alphabet and merges. */
    public static final List<String> SPECIALS = List.of(
            "<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>", "<|endoftext|>",
            "<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>",
            "<|eom_id|>", "<bos>", "<eos>", "<start_of_turn>", "<end_of_turn>", "<|system|>", "<|user|>",
            "<|assistant|>");

    private static final List<String> WORDS = List.of(
            " the", " and", " you", " to", " of", " a", " I", " is", " in", " it", " that", " my", " your", " with",
            " what", " me", " be", " are", " for", " on", " he", " she", " was", " have", " this", " not", " we",
            "ing", "ed", "er", "th", "he", "in", "an", "on", "es", "ou", "\n\n", "user", "assistant", "system",
            " USER", " ASSISTANT", "###", " Instruction", " Response", "[INST]", "[/INST]");

    private static String mapped(String text, char[] alphabet) {
        StringBuilder sb = new StringBuilder();
        for (byte b : text.getBytes(java.nio.charset.StandardCharsets.UTF_8)) sb.append(alphabet[b & 0xff]);
        return sb.toString();
    }

    /** Token text to id, in id order. */
    public static Map<String, Integer> vocabulary() {
        char[] alphabet = TokenVocabulary.byteLevelAlphabet();
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (int b = 0; b < 256; b++) vocab.put(String.valueOf(alphabet[b]), b);
        for (String m : merges()) {
            String[] ab = m.split(" ");
            vocab.putIfAbsent(ab[0] + ab[1], vocab.size());
        }
        for (String s : SPECIALS) vocab.put(s, vocab.size());
        return vocab;
    }

    /** Merges that build each word left to right: "Ġ t", "Ġt h", "Ġth e", ... */
    public static List<String> merges() {
        char[] alphabet = TokenVocabulary.byteLevelAlphabet();
        LinkedHashSet<String> merges = new LinkedHashSet<>();
        for (String w : WORDS) {
            String m = mapped(w, alphabet);
            String left = m.substring(0, 1);
            for (int i = 1; i < m.length(); i++) {
                String right = m.substring(i, i + 1);
                merges.add(left + " " + right);
                left = left + right;
            }
        }
        return new ArrayList<>(merges);
    }

    public static int size() { return vocabulary().size(); }

    public static void write(Path file) throws IOException { write(file, null); }

    /**
     * @param bos when not null, a TemplateProcessing post-processor puts this special token in front of every
     *            encoding made with special tokens (as Llama and Mistral tokenizers do)
     */
    public static void write(Path file, String bos) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        Map<String, Integer> vocab = vocabulary();
        ArrayNode added = root.putArray("added_tokens");
        for (String s : SPECIALS) {
            ObjectNode t = added.addObject();
            t.put("id", vocab.get(s));
            t.put("content", s);
            t.put("single_word", false);
            t.put("lstrip", false);
            t.put("rstrip", false);
            t.put("normalized", false);
            t.put("special", true);
        }
        root.putNull("normalizer");
        ObjectNode pre = root.putObject("pre_tokenizer");
        pre.put("type", "ByteLevel");
        pre.put("add_prefix_space", false);
        pre.put("trim_offsets", true);
        pre.put("use_regex", true);
        if (bos == null) {
            root.putNull("post_processor");
        } else {
            ObjectNode pp = root.putObject("post_processor");
            pp.put("type", "TemplateProcessing");
            ArrayNode single = pp.putArray("single");
            single.addObject().putObject("SpecialToken").put("id", bos).put("type_id", 0);
            single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
            ArrayNode pair = pp.putArray("pair");
            pair.addObject().putObject("SpecialToken").put("id", bos).put("type_id", 0);
            pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
            pair.addObject().putObject("SpecialToken").put("id", bos).put("type_id", 1);
            pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
            ObjectNode st = pp.putObject("special_tokens").putObject(bos);
            st.put("id", bos);
            st.putArray("ids").add(vocab.get(bos));
            st.putArray("tokens").add(bos);
        }
        ObjectNode dec = root.putObject("decoder");
        dec.put("type", "ByteLevel");
        dec.put("add_prefix_space", false);
        dec.put("trim_offsets", true);
        dec.put("use_regex", true);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        ObjectNode v = model.putObject("vocab");
        vocab.forEach(v::put);
        ArrayNode m = model.putArray("merges");
        merges().forEach(m::add);
        json.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), root);
    }
}
