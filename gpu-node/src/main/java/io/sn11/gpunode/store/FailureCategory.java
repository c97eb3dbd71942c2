package io.sn11.gpunode.store;

/**
 * Who is to blame for a failure in the store, the fetch or the precheck. The coordinator maps
 * this onto its own status reasons: a {@link #MINER} failure fails the submission for good, an
 * {@link #INFRASTRUCTURE} failure means the work may be retried later or elsewhere.
 */
public enum FailureCategory {
    /** The submission is at fault: repository or revision missing, gated, too large, pickle weights, bad hash. */
    MINER,
    /** The cluster or the network is at fault: connection refused, timeouts, 5xx, 429, local disk errors. */
    INFRASTRUCTURE
}
