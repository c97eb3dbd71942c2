package io.sn11.gpunode.store;

import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Which files of a Hugging Face folder evaluation needs, and which are refused.
 *
 * <p>Only files at the root of the repository count (that is where {@code transformers} and our
 * engine read a model from); files in sub-folders are neither fetched nor judged, so e.g. Meta's
 * {@code original/consolidated.00.pth} next to the safetensors weights does not fail a Llama 3
 * repository.
 */
public final class ModelFiles {
    /** Fixed-name files evaluation reads when present. */
    public static final Set<String> NEEDED_FILES = Set.of(
            "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
            "special_tokens_map.json", "model.safetensors.index.json");

    /** Extensions of pickle-based weight formats; such a file fails the submission and is never fetched. */
    public static final List<String> PICKLE_EXTENSIONS = List.of(".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle");

    public static final String WEIGHT_EXTENSION = ".safetensors";

    private ModelFiles() {
    }

    /** True for a root-level path (no folder part). */
    public static boolean isRootLevel(String path) {
        return !path.isEmpty() && path.indexOf('/') < 0 && path.indexOf('\\') < 0;
    }

    public static boolean isWeight(String fileName) {
        return fileName.toLowerCase(Locale.ROOT).endsWith(WEIGHT_EXTENSION);
    }

    public static boolean isPickle(String fileName) {
        String lower = fileName.toLowerCase(Locale.ROOT);
        for (String ext : PICKLE_EXTENSIONS) {
            if (lower.endsWith(ext)) {
                return true;
            }
        }
        return false;
    }

    /** True when evaluation needs this root-level file. */
    public static boolean isNeeded(String fileName) {
        return NEEDED_FILES.contains(fileName) || isWeight(fileName);
    }
}
