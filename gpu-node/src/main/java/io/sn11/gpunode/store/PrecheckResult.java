package io.sn11.gpunode.store;

import io.sn11.cluster.domain.FailureCategory;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The outcome of {@link Precheck#check}: passed with the model's content hash and weight bytes,
 * or failed with one or more reasons.
 *
 * @param failures    every check that failed (empty when passed), in the order they were checked
 * @param contentHash SHA-256 (lower-case hex) of the model content (see {@link Precheck}); null when failed, and when
 *                    passed by {@link Precheck#checkUnhashed} (the evaluation hashes the bytes it loads)
 * @param weightBytes total bytes of the {@code *.safetensors} files (0 when there are none)
 */
public record PrecheckResult(List<Failure> failures, String contentHash, long weightBytes) {

    /** One failed check. */
    public record Failure(FailureCategory category, String reason) {
        public Failure {
            Objects.requireNonNull(category, "category");
            Objects.requireNonNull(reason, "reason");
        }
    }

    public PrecheckResult {
        failures = List.copyOf(failures);
        if (!failures.isEmpty() && contentHash != null) {
            throw new IllegalArgumentException("a failed precheck has no content hash");
        }
    }

    static PrecheckResult passed(String contentHash, long weightBytes) {
        return new PrecheckResult(List.of(), contentHash, weightBytes);
    }

    static PrecheckResult failed(List<Failure> failures, long weightBytes) {
        return new PrecheckResult(failures, null, weightBytes);
    }

    public boolean passed() {
        return failures.isEmpty();
    }

    /** The content hash when passed and hashed. */
    public Optional<String> contentHashIfPassed() {
        return Optional.ofNullable(contentHash);
    }

    /**
     * Who is at fault when failed: MINER when any check failed through the model, INFRASTRUCTURE
     * when only local I/O failed (a retry may pass); empty when passed.
     */
    public Optional<FailureCategory> category() {
        if (failures.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(failures.stream().anyMatch(f -> f.category() == FailureCategory.MINER)
                ? FailureCategory.MINER : FailureCategory.INFRASTRUCTURE);
    }

    /** All reasons joined with "; " (empty when passed): what the miner is shown. */
    public String reason() {
        return failures.stream().map(Failure::reason).collect(Collectors.joining("; "));
    }
}
