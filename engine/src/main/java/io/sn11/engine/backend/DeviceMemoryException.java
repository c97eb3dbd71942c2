package io.sn11.engine.backend;

/**
 * A model (or a batch) does not fit in the free memory of the backend's device: a fact about this device now, never
 * about the model alone (it may fit on another device, or on this one later).
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

    public long requiredBytes() { return requiredBytes; }
    public long freeBytes() { return freeBytes; }
}
