package io.sn11.engine.backend.cuda;

import jcuda.CudaException;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Device allocations for activations and caches, recycled by exact size: a forward pass allocates the same buffers
 * every step, and cuMemFree would synchronise the device each time. Blocks go back to the driver when an allocation
 * fails, when the memory check needs an honest free figure, and on close. Used by one thread at a time, like the backend.
 */
final class DeviceMemoryPool implements AutoCloseable {
    private final Map<Long, ArrayDeque<CUdeviceptr>> idle = new HashMap<>();
    private long idleBytes;

    CUdeviceptr allocate(long bytes) {
        ArrayDeque<CUdeviceptr> q = idle.get(bytes);
        if (q != null && !q.isEmpty()) {
            idleBytes -= bytes;
            return q.pop();
        }
        CUdeviceptr p = new CUdeviceptr();
        try {
            JCudaDriver.cuMemAlloc(p, Math.max(1, bytes));
        } catch (CudaException e) {
            if (idleBytes == 0) throw e;
            releaseIdle();
            JCudaDriver.cuMemAlloc(p, Math.max(1, bytes));
        }
        return p;
    }

    void recycle(CUdeviceptr p, long bytes) {
        idle.computeIfAbsent(bytes, b -> new ArrayDeque<>()).push(p);
        idleBytes += bytes;
    }

    long idleBytes() { return idleBytes; }

    void releaseIdle() {
        for (ArrayDeque<CUdeviceptr> q : idle.values()) for (CUdeviceptr p : q) JCudaDriver.cuMemFree(p);
        idle.clear();
        idleBytes = 0;
    }

    @Override
    public void close() { releaseIdle(); }
}
