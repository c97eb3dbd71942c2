package io.sn11.cluster.scoring;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Finds miners who submitted a model someone else submitted first. Only the earliest submission
 * keeps its place, so re-uploading a leader's model earns nothing.
 */
public final class Duplicates {

    private Duplicates() {
    }

    /**
     * @param hash        model hash ({@link ModelHash})
     * @param repo        "namespace/name"
     * @param contentHash hash of the model files; null when unknown
     * @param block       chain block of the submission
     */
    public record Candidate(int uid, String hash, String repo, String contentHash, long block) {
        public Candidate {
            Objects.requireNonNull(hash, "hash");
            Objects.requireNonNull(repo, "repo");
        }
    }

    /** One way two submissions can be the same model, in the order they are checked. */
    private enum SameKey {
        HASH("model hash", Candidate::hash),
        // Hugging Face resolves repository ids case-insensitively, so "Org/Model" is "org/model".
        REPOSITORY("repository", candidate -> candidate.repo().toLowerCase(Locale.ROOT)),
        CONTENT_HASH("content hash", Candidate::contentHash);

        private final String description;
        private final Function<Candidate, String> key;

        SameKey(String description, Function<Candidate, String> key) {
            this.description = description;
            this.key = key;
        }

        String shownValue(Candidate original) {
            return this == REPOSITORY ? original.repo() : key.apply(original);
        }
    }

    /**
     * For each model hash, repository and non-null content hash, the candidate with the earliest
     * block (ties: lowest uid) keeps it; each later one is a duplicate of that candidate, checked
     * by hash, then repository, then content hash. A candidate that is itself a duplicate still
     * owns the keys it was first to use.
     *
     * @return uid -> reason naming the original, only for duplicates, sorted by uid
     * @throws IllegalArgumentException when a uid appears more than once
     */
    public static Map<Integer, String> find(List<Candidate> candidates) {
        Set<Integer> seenUids = new HashSet<>();
        for (Candidate candidate : candidates) {
            if (!seenUids.add(candidate.uid())) {
                throw new IllegalArgumentException("uid " + candidate.uid() + " appears more than once");
            }
        }
        List<Candidate> earliestFirst = new ArrayList<>(candidates);
        earliestFirst.sort(Comparator.comparingLong(Candidate::block).thenComparingInt(Candidate::uid));

        Map<SameKey, Map<String, Candidate>> firstByKey = new HashMap<>();
        for (SameKey sameKey : SameKey.values()) {
            firstByKey.put(sameKey, new HashMap<>());
        }
        Map<Integer, String> reasons = new TreeMap<>();
        for (Candidate candidate : earliestFirst) {
            for (SameKey sameKey : SameKey.values()) {
                String value = sameKey.key.apply(candidate);
                if (value == null) {
                    continue;
                }
                Candidate original = firstByKey.get(sameKey).putIfAbsent(value, candidate);
                if (original != null && !reasons.containsKey(candidate.uid())) {
                    reasons.put(candidate.uid(), "duplicate of uid " + original.uid() + " (same " + sameKey.description
                            + " " + sameKey.shownValue(original) + ", block " + original.block() + ")");
                }
            }
        }
        return reasons;
    }
}
