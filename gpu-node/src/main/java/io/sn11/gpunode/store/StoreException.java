package io.sn11.gpunode.store;

import io.sn11.cluster.domain.FailureCategory;
import java.util.Objects;

/**
 * A failure of the model store, the Hub client or the precheck, with the {@link FailureCategory}
 * that tells the coordinator whether the miner or the infrastructure is at fault. The message is
 * meant to be shown to the miner as the failure reason; it never contains a token.
 */
public class StoreException extends Exception {
    private static final long serialVersionUID = 1L;

    private final FailureCategory category;
    private final int httpStatus;

    public StoreException(FailureCategory category, String message) {
        this(category, message, -1, null);
    }

    public StoreException(FailureCategory category, String message, Throwable cause) {
        this(category, message, -1, cause);
    }

    public StoreException(FailureCategory category, String message, int httpStatus, Throwable cause) {
        super(message, cause);
        this.category = Objects.requireNonNull(category, "category");
        this.httpStatus = httpStatus;
    }

    public static StoreException miner(String message) {
        return new StoreException(FailureCategory.MINER, message);
    }

    public static StoreException infrastructure(String message, Throwable cause) {
        return new StoreException(FailureCategory.INFRASTRUCTURE, message, cause);
    }

    public FailureCategory category() {
        return category;
    }

    /** The HTTP status that caused this failure, or -1 when it did not come from an HTTP answer. */
    public int httpStatus() {
        return httpStatus;
    }

    @Override
    public String toString() {
        return "StoreException[" + category + (httpStatus > 0 ? ", HTTP " + httpStatus : "") + "]: " + getMessage();
    }
}
