package io.sn11.gpunode.engine.backend;

import io.sn11.cluster.domain.FailureCategory;

/**
 * A model (or a batch) does not fit in the free memory of the backend's device. Always an {@link
 * FailureCategory#INFRASTRUCTURE} failure: the model may fit on another node, or here later, so the miner is not blamed.
 */
public final class DeviceMemoryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final long requiredBytes;
    private final long freeBytes;

    public DeviceMemoryException(String purpose, String device, long requiredBytes, long freeBytes, long totalBytes) {
        super(String.format("%s needs %,d bytes (%.2f GiB) on %s but only %,d bytes (%.2f GiB) of %.2f GiB are free",
                purpose, requiredBytes, gib(requiredBytes), device, freeBytes, gib(freeBytes), gib(totalBytes)));
        this.requiredBytes = requiredBytes;
        this.freeBytes = freeBytes;
    }

    private static double gib(long bytes) { return bytes / (double) (1L << 30); }

    public FailureCategory category() { return FailureCategory.INFRASTRUCTURE; }
    public long requiredBytes() { return requiredBytes; }
    public long freeBytes() { return freeBytes; }
}
