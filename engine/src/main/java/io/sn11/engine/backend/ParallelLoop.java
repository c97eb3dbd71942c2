package io.sn11.engine.backend;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ForkJoinPool;
import java.util.function.IntConsumer;

/** The CPU backends' worker threads: a loop over items split into contiguous chunks, one pool per backend. */
final class ParallelLoop implements AutoCloseable {
    /** Below this much work (multiply-adds or elements) a loop runs on the calling thread. */
    private static final long MIN_PARALLEL_WORK = 1 << 15;

    private final int threads;
    private final ForkJoinPool pool;

    ParallelLoop(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1");
        this.threads = threads;
        this.pool = threads == 1 ? null : new ForkJoinPool(threads);
    }

    int threads() { return threads; }

    /**
     * Runs body(i) for i in [0, n), split into contiguous chunks over the pool; {@code workPerItem} estimates the cost
     * of one item so that small loops do not pay for task hand-off.
     */
    void run(int n, long workPerItem, IntConsumer body) {
        long total = n * Math.max(1, workPerItem);
        if (pool == null || n < 2 || total < MIN_PARALLEL_WORK) {
            for (int i = 0; i < n; i++) body.accept(i);
            return;
        }
        int minChunk = (int) Math.max(1, Math.min(n, MIN_PARALLEL_WORK / 4 / Math.max(1, workPerItem)));
        int chunks = Math.min(threads * 4, (n + minChunk - 1) / minChunk);
        int per = (n + chunks - 1) / chunks;
        List<Callable<Void>> tasks = new ArrayList<>(chunks);
        for (int c = 0; c < chunks; c++) {
            int from = c * per, to = Math.min(n, from + per);
            if (from >= to) break;
            tasks.add(() -> {
                for (int i = from; i < to; i++) body.accept(i);
                return null;
            });
        }
        List<java.util.concurrent.Future<Void>> done;
        try {
            done = pool.invokeAll(tasks);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.util.concurrent.CancellationException("interrupted while the kernel ran");
        }
        for (var f : done) {
            try {
                f.get();
            } catch (Exception e) {
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                if (cause instanceof RuntimeException re) throw re;
                if (cause instanceof Error er) throw er;
                throw new RuntimeException(cause);
            }
        }
    }

    @Override
    public void close() {
        if (pool != null) pool.shutdown();
    }
}
