package io.sn11.engine.backend.cuda;

import io.sn11.engine.backend.DeviceMemoryException;
import io.sn11.engine.backend.cuda.DeviceMemoryPool.Block;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The pool's policy on a fake device of fixed capacity (no GPU): size classes, bounded reuse, release on failure. */
class DeviceMemoryPoolTest {

    /** Blocks are numbered; the device refuses (null) what would exceed its capacity. */
    static final class FakeDevice implements DeviceMemoryPool.Device<Integer> {
        final long capacity;
        final Map<Integer, Long> blocks = new HashMap<>();
        int allocations, frees;

        FakeDevice(long capacity) { this.capacity = capacity; }

        long used() { return blocks.values().stream().mapToLong(Long::longValue).sum(); }

        @Override
        public Integer allocate(long bytes) {
            if (used() + bytes > capacity) return null;
            blocks.put(++allocations, bytes);
            return allocations;
        }

        @Override
        public void free(Integer block) {
            assertNotNull(blocks.remove(block), "block " + block + " freed twice or never allocated");
            frees++;
        }

        @Override
        public DeviceMemoryException outOfMemory(long bytes) {
            return new DeviceMemoryException("an allocation", "the fake device", bytes, capacity - used(), capacity);
        }
    }

    final FakeDevice device = new FakeDevice(1L << 40);
    final DeviceMemoryPool<Integer> pool = new DeviceMemoryPool<>(device);

    @Test
    void aBlockFreedAtOneSizeServesASlightlyLargerRequest() {
        Block<Integer> first = pool.allocate(1000);
        pool.recycle(first);
        Block<Integer> second = pool.allocate(1010);
        assertEquals(first.handle(), second.handle());
        assertEquals(1, device.allocations);
        assertTrue(second.capacity() >= 1010);
    }

    @Test
    void kvCachesOfEverySampleLengthShareAFewBlocks() {
        // a 1B-shape cache: 16 layers x (keys + values) x 512 floats x 4 bytes per position; one sample at a time,
        // 1000 samples of 100..1100 tokens in the order a scoring run meets them
        long perPosition = 16L * 2 * 512 * 4, largest = perPosition * 1100;
        java.util.Random random = new java.util.Random(7);
        for (int sample = 0; sample < 1000; sample++) {
            Block<Integer> cache = pool.allocate(perPosition * (100 + random.nextInt(1001)));
            pool.recycle(cache);
        }
        // at most one block per class between the smallest and the largest cache (15 classes), not one per length
        assertTrue(device.allocations <= 15, device.allocations + " device allocations");
        assertTrue(device.used() <= 8 * largest, device.used() + " bytes held");
    }

    @Test
    void aFarLargerIdleBlockIsNotTiedUpByASmallRequest() {
        pool.recycle(pool.allocate(1 << 20));
        Block<Integer> small = pool.allocate(1 << 10);
        assertEquals(2, device.allocations);
        assertEquals(1 << 10, small.capacity());
        assertEquals(1 << 20, pool.idleBytes());
    }

    @Test
    void whenTheDeviceRefusesIdleBlocksAreReleasedAndTheAllocationRetried() {
        FakeDevice small = new FakeDevice(10 << 10);
        DeviceMemoryPool<Integer> p = new DeviceMemoryPool<>(small);
        Block<Integer> a = p.allocate(4 << 10), b = p.allocate(4 << 10);
        p.recycle(a);
        p.recycle(b);
        Block<Integer> big = p.allocate(9 << 10);  // no idle block is large enough, and 8 KiB are held idle
        assertEquals(2, small.frees);
        assertEquals(0, p.idleBytes());
        assertEquals(3, big.handle());
    }

    @Test
    void aFullDeviceWithNothingIdleFailsWithADeviceMemoryError() {
        FakeDevice small = new FakeDevice(10 << 10);
        DeviceMemoryPool<Integer> p = new DeviceMemoryPool<>(small);
        p.allocate(8 << 10);
        DeviceMemoryException e = assertThrows(DeviceMemoryException.class, () -> p.allocate(4 << 10));
        assertEquals(4 << 10, e.requiredBytes());
        assertEquals(2 << 10, e.freeBytes());
    }

    @Test
    void closeFreesIdleAndHandedOutBlocks() {
        List<Block<Integer>> blocks = new ArrayList<>();
        for (int i = 1; i <= 5; i++) blocks.add(pool.allocate(i * 1000L));
        pool.recycle(blocks.get(0));
        pool.recycle(blocks.get(3));
        pool.close();
        assertEquals(0, device.blocks.size(), "every block went back to the device");
        pool.recycle(blocks.get(1));  // a buffer closed after its backend: nothing left to do
        assertEquals(5, device.frees);
        assertThrows(IllegalStateException.class, () -> pool.allocate(1));
    }

    @Test
    void recyclingABlockTwiceIsRefused() {
        Block<Integer> b = pool.allocate(100);
        pool.recycle(b);
        assertThrows(IllegalStateException.class, () -> pool.recycle(b));
    }

    @Test
    void sizeClassesAreAtMostAQuarterAboveTheRequestAndGrowWithIt() {
        long previous = 0;
        for (long bytes = 1; bytes < 1 << 22; bytes += 1 + bytes / 7) {
            long c = DeviceMemoryPool.sizeClass(bytes);
            assertTrue(c >= bytes, bytes + " -> " + c);
            assertTrue(c <= Math.max(DeviceMemoryPool.MIN_CLASS, bytes * 1.25), bytes + " -> " + c);
            assertTrue(c >= previous, "monotone at " + bytes);
            assertEquals(c, DeviceMemoryPool.sizeClass(c), "a class is its own class");
            previous = c;
        }
        assertEquals(256, DeviceMemoryPool.sizeClass(1));
        assertEquals(320, DeviceMemoryPool.sizeClass(257));
        assertEquals(1024, DeviceMemoryPool.sizeClass(1000));
        assertEquals(1280, DeviceMemoryPool.sizeClass(1025));
    }
}
