package io.sn11.engine.backend.cuda;

import io.sn11.engine.backend.DeviceMemoryException;
import jcuda.CudaException;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Device blocks for activations, kv caches and scratch, recycled by size class: a forward pass allocates the same
 * buffers every step, and cuMemFree would synchronise the device each time. A request is rounded up to its class
 * (quarter steps between powers of two: 1, 1.25, 1.5, 1.75 x 2^k, so at most 25 % above the request) and served by
 * any idle block of that class or larger up to {@link #REUSE_BOUND} times the class; kv caches of neighbouring sample
 * lengths therefore share blocks instead of each length keeping its own. When the device refuses an allocation every
 * idle block goes back to the driver and the allocation is tried once more; idle blocks also go back when the memory
 * check needs an honest free figure, and every block (idle or still handed out) on close.
 *
 * <p>The bookkeeping is independent of the driver: {@link Device} is the one seam, the CUDA one is {@link #cuda}.
 * Used by one thread at a time, like the backend.
 */
final class DeviceMemoryPool<B> implements AutoCloseable {

    /** Where blocks come from. */
    interface Device<B> {
        /** A new block of exactly {@code bytes}, or null when the device has not that much free. */
        B allocate(long bytes);

        void free(B block);

        /** The failure to report when even an emptied pool leaves the device without {@code bytes}. */
        DeviceMemoryException outOfMemory(long bytes);
    }

    /** A block handed out: the device's handle and the bytes it really holds (its size class). */
    record Block<B>(B handle, long capacity) {}

    /** The smallest class: the driver's own allocation granularity, below which rounding saves nothing. */
    static final long MIN_CLASS = 256;
    /** An idle block serves a request whose class is at least 1 / REUSE_BOUND of its size, so waste stays bounded. */
    static final int REUSE_BOUND = 2;

    private final Device<B> device;
    private final TreeMap<Long, ArrayDeque<B>> idle = new TreeMap<>();
    private final Map<B, Long> handedOut = new HashMap<>();
    private long idleBytes;
    private boolean closed;

    DeviceMemoryPool(Device<B> device) { this.device = device; }

    /** The pool over the CUDA context current on the calling thread. */
    static DeviceMemoryPool<CUdeviceptr> cuda(String deviceName) { return new DeviceMemoryPool<>(new CudaDevice(deviceName)); }

    /** The class a request of {@code bytes} is rounded up to. */
    static long sizeClass(long bytes) {
        if (bytes <= MIN_CLASS) return MIN_CLASS;
        long power = Long.highestOneBit(bytes);
        if (power == bytes) return bytes;
        long step = power / 4;
        return (bytes + step - 1) / step * step;
    }

    Block<B> allocate(long bytes) {
        if (closed) throw new IllegalStateException("device memory pool is closed");
        long size = sizeClass(bytes);
        Map.Entry<Long, ArrayDeque<B>> fit = idle.ceilingEntry(size);
        if (fit != null && fit.getKey() <= REUSE_BOUND * size) {
            B handle = fit.getValue().pop();
            if (fit.getValue().isEmpty()) idle.remove(fit.getKey());
            idleBytes -= fit.getKey();
            return handOut(handle, fit.getKey());
        }
        B handle = device.allocate(size);
        if (handle == null && idleBytes > 0) {
            releaseIdle();
            handle = device.allocate(size);
        }
        if (handle == null) throw device.outOfMemory(size);
        return handOut(handle, size);
    }

    private Block<B> handOut(B handle, long capacity) {
        handedOut.put(handle, capacity);
        return new Block<>(handle, capacity);
    }

    void recycle(Block<B> block) {
        if (closed) return;  // closing freed it already
        Long capacity = handedOut.remove(block.handle());
        if (capacity == null) throw new IllegalStateException("block recycled twice or not from this pool");
        idle.computeIfAbsent(capacity, c -> new ArrayDeque<>()).push(block.handle());
        idleBytes += capacity;
    }

    long idleBytes() { return idleBytes; }

    void releaseIdle() {
        for (ArrayDeque<B> blocks : idle.values()) for (B b : blocks) device.free(b);
        idle.clear();
        idleBytes = 0;
    }

    /** Frees every block, handed out or idle: the backend closes with it, and no buffer outlives the backend. */
    @Override
    public void close() {
        if (closed) return;
        releaseIdle();
        for (B b : handedOut.keySet()) device.free(b);
        handedOut.clear();
        closed = true;
    }

    /** cuMemAlloc / cuMemFree in the current context; only CUDA_ERROR_OUT_OF_MEMORY counts as "no room". */
    private record CudaDevice(String deviceName) implements Device<CUdeviceptr> {
        private static final String OUT_OF_MEMORY = CUresult.stringFor(CUresult.CUDA_ERROR_OUT_OF_MEMORY);

        @Override
        public CUdeviceptr allocate(long bytes) {
            CUdeviceptr p = new CUdeviceptr();
            try {
                JCudaDriver.cuMemAlloc(p, bytes);
                return p;
            } catch (CudaException e) {
                if (OUT_OF_MEMORY.equals(e.getMessage())) return null;
                throw e;
            }
        }

        @Override public void free(CUdeviceptr block) { JCudaDriver.cuMemFree(block); }

        @Override
        public DeviceMemoryException outOfMemory(long bytes) {
            long[] free = new long[1], total = new long[1];
            JCudaDriver.cuMemGetInfo(free, total);
            return new DeviceMemoryException("an allocation of " + bytes + " bytes", "CUDA device 0 (" + deviceName + ")",
                    bytes, free[0], total[0]);
        }
    }
}
