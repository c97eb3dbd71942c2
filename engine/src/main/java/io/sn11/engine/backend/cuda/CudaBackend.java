package io.sn11.engine.backend.cuda;

import io.sn11.engine.backend.Backend;
import io.sn11.engine.backend.DeviceMemoryException;
import io.sn11.engine.backend.cuda.DeviceMemoryPool.Block;
import io.sn11.engine.safetensors.DType;
import io.sn11.engine.safetensors.Tensor;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.Objects;

/**
 * The engine's kernels on an NVIDIA GPU through the JCuda driver API, loading the PTX the build compiled from
 * {@code src/main/cuda} (or, where packaged, the modules' cubins for this device: {@link CudaKernel#image}). Weights
 * are uploaded once in their stored dtype (1-D norms and biases widened to F32, which is exact and tiny) and stay
 * resident; activations, kv caches and logits stay on the device, and the scoring reduction
 * runs there so only per-row statistics come back. Everything runs on the context's default stream, in order.
 *
 * <p>One backend owns one device (one evaluator slot per device); it is used by one thread at a time, and makes its
 * context current on the calling thread at every entry, so that thread may change between calls.
 */
public final class CudaBackend implements Backend {
    private static final Logger log = LoggerFactory.getLogger(CudaBackend.class);

    private final CudaProbe probe;
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final List<CUmodule> modules = new ArrayList<>();
    private final Map<CudaKernel, CUfunction> functions = new EnumMap<>(CudaKernel.class);
    private final DeviceMemoryPool<CUdeviceptr> pool;
    /** Weights not closed yet: freed on close, since releasing the primary context need not destroy it. */
    private final Set<CudaWeight> residentWeights = new HashSet<>();
    private final DeviceInts positions = new DeviceInts(), indices = new DeviceInts();
    /** cuBLASLt for the many-row bf16 matmuls; null where it is absent or did not start (the WMMA kernels run). */
    private CublasLtMatmul cublasLt;
    /** Which kernels run the matmuls, and why not cuBLASLt where it is not used: for {@link #settings()}. */
    private String matmul;
    /** What the modules were loaded from (a cubin for this device, or PTX): the proof shows that nothing was JIT-compiled. */
    private final String kernelImages;
    private boolean closed;

    private CudaBackend(CudaProbe probe, CublasLt.Loaded cublasLtLibrary) {
        this.probe = probe;
        // idempotent after the probe; makes a backend opened with any available probe report errors as exceptions
        JCudaDriver.setExceptionsEnabled(true);
        JCudaDriver.cuInit(0);
        JCudaDriver.cuDeviceGet(device, 0);
        // The device's primary context, not a context of our own: the CUDA runtime (and so cuBLASLt) works in the
        // primary context, so our kernels and cuBLASLt's see the same allocations and the same default stream.
        JCudaDriver.cuDevicePrimaryCtxRetain(context, device);
        JCudaDriver.cuCtxSetCurrent(context);
        pool = DeviceMemoryPool.cuda(probe.deviceName());
        try {
            Set<String> kinds = new TreeSet<>();
            for (String module : CudaKernel.modules()) {
                CudaKernel.Image image = CudaKernel.image(module, probe.computeMajor(), probe.computeMinor());
                CUmodule m = new CUmodule();
                JCudaDriver.cuModuleLoadData(m, image.bytes());
                modules.add(m);
                kinds.add(image.kind());
            }
            kernelImages = String.join(" + ", kinds);
            for (CudaKernel k : CudaKernel.values()) {
                CUfunction f = new CUfunction();
                JCudaDriver.cuModuleGetFunction(f, modules.get(CudaKernel.modules().indexOf(k.module())), k.entry());
                functions.put(k, f);
            }
            // the prefill attention stages more than the default 48 KiB of shared memory for head dims above 96
            JCudaDriver.cuFuncSetAttribute(functions.get(CudaKernel.ATTENTION_PREFILL),
                    CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                    CudaLaunch.prefillSharedBytes(CudaLaunch.MAX_HEAD_DIM));
            startCublasLt(cublasLtLibrary);
        } catch (IOException e) {
            close();
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Opens device 0, or fails with the probe's reason when this JVM cannot run CUDA; cuBLASLt where it is found. */
    public static CudaBackend open(CudaProbe probe) { return open(probe, CublasLt.system()); }

    /** As {@link #open(CudaProbe)} with the cuBLASLt library given: a refused one keeps every matmul on our kernels. */
    public static CudaBackend open(CudaProbe probe, CublasLt.Loaded cublasLt) {
        if (!probe.available()) throw new IllegalStateException("backend 'cuda' is not available: " + probe.reason());
        return new CudaBackend(probe, cublasLt);
    }

    /** cuBLASLt in this context, or the WMMA kernels with the reason logged once and kept for the settings. */
    private void startCublasLt(CublasLt.Loaded loaded) {
        String refusal = loaded.reason();
        if (loaded.library().isPresent()) {
            CublasLt lib = loaded.library().get();
            try {
                cublasLt = new CublasLtMatmul(lib);
                matmul = matmulSetting(lib.release() + " (" + lib.location() + ")", null);
                return;
            } catch (RuntimeException e) {
                refusal = lib.location() + " did not start: " + e.getMessage();
            }
        }
        log.info("cuda backend: matmuls on our WMMA kernels, cuBLASLt not used: {}", refusal);
        matmul = matmulSetting(null, refusal);
    }

    /** The {@code matmul} setting: cuBLASLt's version and place when it runs the bf16 prefill matmuls, else why not. */
    static String matmulSetting(String cublasLt, String refusal) {
        String small = "f32 gemv for " + CudaLaunch.GEMV_MAX_ROWS + " rows or fewer";
        if (cublasLt != null) {
            return "cuBLASLt " + cublasLt + " for bf16 weights above " + CudaLaunch.GEMV_MAX_ROWS + " rows (activations "
                    + "rounded to bf16, f32 accumulation); WMMA tensor cores for f16 weights and for shapes cuBLASLt has no "
                    + "algorithm for; tiled f32 for f32 weights; " + small;
        }
        return "WMMA tensor cores (activations rounded to the weight dtype, f32 accumulation) for f16/bf16 weights above "
                + CudaLaunch.GEMV_MAX_ROWS + " rows; tiled f32 for f32 weights; " + small + "; cuBLASLt not used: " + refusal;
    }

    @Override public String name() { return "cuda"; }

    @Override
    public Map<String, Object> settings() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("device", probe.deviceName());
        m.put("compute_capability", probe.computeMajor() + "." + probe.computeMinor());
        m.put("memory_bytes", probe.totalMemoryBytes());
        m.put("driver_version", probe.driverVersion());
        m.put("kernels", kernelImages);
        m.put("accumulate", "f32");
        m.put("matmul", matmul);
        return m;
    }

    private void enter() {
        if (closed) throw new IllegalStateException("cuda backend is closed");
        JCudaDriver.cuCtxSetCurrent(context);
    }

    // ---------------------------------------------------------------- storage

    /** Device memory of {@code size()} floats, returned to the pool on close. */
    final class CudaBuffer implements Buffer {
        final Block<CUdeviceptr> block;
        final CUdeviceptr ptr;
        final int size;
        private boolean released;

        CudaBuffer(int floats) {
            this.size = floats;
            this.block = pool.allocate(4L * floats);
            this.ptr = block.handle();
        }

        @Override public int size() { return size; }

        /** The address of float {@code index}. */
        CUdeviceptr at(long index) { return ptr.withByteOffset(4L * index); }

        @Override
        public void close() {
            if (released || closed) return;
            released = true;
            pool.recycle(block);
        }
    }

    /** A resident weight; {@code deviceDtype} is what the kernels read (F32 for 1-D tensors). */
    final class CudaWeight implements WeightHandle {
        final String name;
        final DType dtype, deviceDtype;
        final int rows, cols;
        final CUdeviceptr ptr = new CUdeviceptr();
        private boolean released;

        CudaWeight(Tensor t) {
            this.name = t.name();
            this.dtype = t.dtype();
            Tensor.Matrix extent = t.asMatrix();
            rows = extent.rows();
            cols = extent.cols();
            this.deviceDtype = rows == 1 ? DType.F32 : dtype;
            if (deviceDtype == dtype) {
                MemorySegment data = t.data();
                JCudaDriver.cuMemAlloc(ptr, Math.max(1, data.byteSize()));
                copyToDevice(data, ptr);
            } else {
                float[] v = t.toFloatArray();
                JCudaDriver.cuMemAlloc(ptr, 4L * v.length);
                JCudaDriver.cuMemcpyHtoD(ptr, Pointer.to(v), 4L * v.length);
            }
            residentWeights.add(this);
        }

        @Override public String name() { return name; }
        @Override public DType dtype() { return dtype; }
        @Override public int rows() { return rows; }
        @Override public int cols() { return cols; }

        @Override
        public void close() {
            if (released || closed) return;
            released = true;
            enter();  // cuMemFree needs the context current on this thread
            residentWeights.remove(this);
            JCudaDriver.cuMemFree(ptr);
        }
    }

    /** At most this many bytes per host-to-device copy: a ByteBuffer view of the segment is limited to 2 GiB. */
    private static final long COPY_CHUNK_BYTES = 1L << 30;

    /**
     * Copies a tensor's bytes in chunks: a mapped (native) segment straight through a direct ByteBuffer view of it
     * (JCuda takes buffers), a heap one (tests) through an array copy.
     */
    private static void copyToDevice(MemorySegment data, CUdeviceptr dst) {
        long bytes = data.byteSize();
        for (long off = 0; off < bytes; off += COPY_CHUNK_BYTES) {
            long n = Math.min(COPY_CHUNK_BYTES, bytes - off);
            MemorySegment chunk = data.asSlice(off, n);
            Pointer src = chunk.isNative() ? Pointer.toBuffer(chunk.asByteBuffer()) : Pointer.to(chunk.toArray(ValueLayout.JAVA_BYTE));
            JCudaDriver.cuMemcpyHtoD(dst.withByteOffset(off), src, n);
        }
    }

    /** Keys and values of every layer in one allocation: layer l's keys, then its values, {@code capacity x kvDim}. */
    final class CudaKvCache implements KvCache {
        final CudaBuffer storage;
        final int capacity, kvDim;

        CudaKvCache(int layers, int kvDim, int capacity) {
            this.capacity = capacity;
            this.kvDim = kvDim;
            this.storage = new CudaBuffer(Math.toIntExact(2L * layers * capacity * kvDim));
        }

        CUdeviceptr keys(int layer, int position) { return storage.at((2L * layer * capacity + position) * kvDim); }
        CUdeviceptr values(int layer, int position) { return storage.at(((2L * layer + 1) * capacity + position) * kvDim); }

        @Override public int capacity() { return capacity; }
        @Override public void close() { storage.close(); }
    }

    /** A small device array of ints (token ids, positions, row indices) re-uploaded only when its content changes. */
    private final class DeviceInts {
        private Block<CUdeviceptr> block;
        private int[] last = new int[0];

        CUdeviceptr upload(int[] values) {
            if (block != null && Arrays.equals(values, last)) return block.handle();
            if (block == null || 4L * values.length > block.capacity()) {
                if (block != null) pool.recycle(block);
                block = pool.allocate(4L * Math.max(1, values.length));
            }
            if (values.length > 0) JCudaDriver.cuMemcpyHtoD(block.handle(), Pointer.to(values), 4L * values.length);
            last = values.clone();
            return block.handle();
        }
    }

    private static CudaBuffer b(Buffer buffer) { return (CudaBuffer) buffer; }
    private static CudaWeight w(WeightHandle handle) { return (CudaWeight) handle; }

    @Override
    public Buffer allocate(int floats) {
        enter();
        CudaBuffer buf = new CudaBuffer(floats);
        JCudaDriver.cuMemsetD32(buf.ptr, 0, floats);  // zeros, as the CPU backend's arrays; recycled memory is not
        return buf;
    }

    @Override
    public Buffer upload(float[] data) {
        enter();
        CudaBuffer buf = new CudaBuffer(data.length);
        JCudaDriver.cuMemcpyHtoD(buf.ptr, Pointer.to(data), 4L * data.length);
        return buf;
    }

    @Override
    public float[] download(Buffer buffer, int offset, int floats) {
        enter();
        Objects.checkFromIndexSize(offset, floats, buffer.size());
        float[] out = new float[floats];
        JCudaDriver.cuMemcpyDtoH(Pointer.to(out), b(buffer).at(offset), 4L * floats);
        return out;
    }

    @Override
    public WeightHandle upload(Tensor tensor) {
        enter();
        return new CudaWeight(tensor);
    }

    @Override
    public KvCache allocateKvCache(int layers, int kvHeads, int headDim, int capacity) {
        enter();
        return new CudaKvCache(layers, kvHeads * headDim, capacity);
    }

    @Override
    public void requireMemory(long bytes, String purpose) {
        enter();
        pool.releaseIdle();  // recycled blocks are ours to give back: count them as free
        long[] free = new long[1], total = new long[1];
        JCudaDriver.cuMemGetInfo(free, total);
        if (bytes > free[0]) {
            throw new DeviceMemoryException(purpose, "CUDA device 0 (" + probe.deviceName() + ")", bytes, free[0], total[0]);
        }
    }

    @Override
    public void synchronize() {
        enter();
        JCudaDriver.cuCtxSynchronize();
    }

    // ---------------------------------------------------------------- launching

    /** Launches on the default stream; arguments are device pointers, Integer, Long or Float. */
    private void launch(CudaKernel kernel, int gridX, int gridY, int gridZ, int threads, int sharedBytes, Object... args) {
        NativePointerObject[] params = new NativePointerObject[args.length];
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            if (a instanceof CUdeviceptr p) params[i] = Pointer.to(p);
            else if (a instanceof Integer v) params[i] = Pointer.to(new int[] {v});
            else if (a instanceof Long v) params[i] = Pointer.to(new long[] {v});
            else if (a instanceof Float v) params[i] = Pointer.to(new float[] {v});
            else throw new IllegalArgumentException("kernel argument " + i + " of " + kernel + ": " + a);
        }
        JCudaDriver.cuLaunchKernel(functions.get(kernel), gridX, gridY, gridZ, threads, 1, 1, sharedBytes, null,
                Pointer.to(params), null);
    }

    private static void requireSize(Buffer buffer, long floats, String what) {
        if (buffer.size() < floats) {
            throw new IllegalArgumentException(what + ": buffer of " + buffer.size() + " floats, " + floats + " needed");
        }
    }

    /** Every buffer the attention of slice {@code s} reads or writes holds the slice's rows (the kernels check nothing). */
    static void requireAttentionSizes(Buffer q, Buffer k, Buffer v, Buffer out, SeqSlice s, int qDim, int kvDim) {
        long rows = (long) s.firstRow() + s.length();
        requireSize(q, rows * qDim, "attention q");
        requireSize(k, rows * kvDim, "attention k");
        requireSize(v, rows * kvDim, "attention v");
        requireSize(out, rows * qDim, "attention out");
    }

    // ---------------------------------------------------------------- kernels

    @Override
    public void embedding(WeightHandle table, int[] tokens, Buffer out) {
        enter();
        CudaWeight t = w(table);
        for (int tok : tokens) {
            if (tok < 0 || tok >= t.rows) throw new IllegalArgumentException("token id " + tok + " outside vocab " + t.rows);
        }
        requireSize(out, (long) tokens.length * t.cols, "embedding");
        if (tokens.length == 0) return;
        long n = (long) tokens.length * t.cols;
        launch(CudaKernel.byDtype(CudaKernel.EMBEDDING_F32, t.deviceDtype), CudaLaunch.strideBlocks(n), 1, 1,
                CudaLaunch.THREADS, 0, t.ptr, indices.upload(tokens), b(out).ptr, tokens.length, t.cols);
    }

    @Override
    public void rmsnorm(Buffer x, WeightHandle weight, int rows, float eps, Buffer out) {
        enter();
        int n = w(weight).cols;
        requireSize(x, (long) rows * n, "rmsnorm");
        requireSize(out, (long) rows * n, "rmsnorm");
        if (rows == 0) return;
        launch(CudaKernel.RMSNORM, rows, 1, 1, CudaLaunch.THREADS, 0, b(x).ptr, w(weight).ptr, b(out).ptr, n, eps);
    }

    @Override
    public void matmul(Buffer x, int rows, WeightHandle weight, WeightHandle bias, Buffer out) {
        enter();
        CudaWeight wt = w(weight);
        requireSize(x, (long) rows * wt.cols, "matmul " + wt.name);
        requireSize(out, (long) rows * wt.rows, "matmul " + wt.name);
        if (rows == 0) return;
        if (cublasLt != null && rows > CudaLaunch.GEMV_MAX_ROWS && wt.deviceDtype == DType.BF16) {
            long biasAddress = bias == null ? 0 : DeviceAddress.of(w(bias).ptr);
            CublasLtMatmul.Plan plan = cublasLt.plan(rows, wt.cols, wt.rows, biasAddress, DType.F32);
            if (plan.runnable()) {
                matmulOnCublasLt(plan, b(x), rows, wt, biasAddress, b(out));
                return;
            }
        }
        CudaKernel kernel = CudaLaunch.matmulKernel(rows, wt.deviceDtype);
        int[] grid = CudaLaunch.matmulGrid(kernel, rows, wt.rows);
        CUdeviceptr biasPtr = bias == null ? new CUdeviceptr() : w(bias).ptr;  // null pointer: no bias
        launch(kernel, grid[0], grid[1], 1, CudaLaunch.THREADS, 0, b(x).ptr, wt.ptr, biasPtr, b(out).ptr, rows, wt.rows, wt.cols);
    }

    /** x rounded to bf16 in scratch memory, then cuBLASLt; all on the default stream, so the scratch can go back at once. */
    private void matmulOnCublasLt(CublasLtMatmul.Plan plan, CudaBuffer x, int rows, CudaWeight w, long bias, CudaBuffer out) {
        long n = (long) rows * w.cols;
        Block<CUdeviceptr> xBf16 = pool.allocate(2 * n);
        try {
            launch(CudaKernel.ROUND_TO_BF16, CudaLaunch.strideBlocks(n), 1, 1, CudaLaunch.THREADS, 0, x.ptr, xBf16.handle(), n);
            cublasLt.run(plan, DeviceAddress.of(xBf16.handle()), DeviceAddress.of(w.ptr), bias, DeviceAddress.of(out.ptr));
        } finally {
            pool.recycle(xBf16);
        }
    }

    @Override
    public void rope(Buffer x, int rows, int heads, int headDim, int[] positionOfRow, Buffer invFreq) {
        enter();
        requireSize(x, (long) rows * heads * headDim, "rope");
        if (rows == 0) return;
        long pairs = (long) rows * heads * (headDim / 2);
        launch(CudaKernel.ROPE, CudaLaunch.strideBlocks(pairs), 1, 1, CudaLaunch.THREADS, 0, b(x).ptr,
                positions.upload(positionOfRow), b(invFreq).ptr, rows, heads, headDim);
    }

    @Override
    public void attention(int layer, Buffer q, Buffer k, Buffer v, List<SeqSlice> batch, int heads, int kvHeads,
                          int headDim, Buffer out) {
        enter();
        if (headDim > CudaLaunch.MAX_HEAD_DIM) {
            throw new IllegalArgumentException("head dim " + headDim + " above the kernels' " + CudaLaunch.MAX_HEAD_DIM);
        }
        if (heads % kvHeads != 0) throw new IllegalArgumentException(heads + " heads not a multiple of " + kvHeads);
        int qDim = heads * headDim, kvDim = kvHeads * headDim;
        for (SeqSlice s : batch) {
            CudaKvCache c = (CudaKvCache) s.cache();
            if (s.startPos() + s.length() > c.capacity) {
                throw new IllegalArgumentException("kv cache capacity " + c.capacity + " exceeded at position "
                        + (s.startPos() + s.length()));
            }
            requireAttentionSizes(q, k, v, out, s, qDim, kvDim);
        }
        float scale = (float) (1.0 / Math.sqrt(headDim));
        for (SeqSlice s : batch) {
            if (s.length() == 0) continue;
            CudaKvCache c = (CudaKvCache) s.cache();
            long bytes = 4L * s.length() * kvDim;
            JCudaDriver.cuMemcpyDtoD(c.keys(layer, s.startPos()), b(k).at((long) s.firstRow() * kvDim), bytes);
            JCudaDriver.cuMemcpyDtoD(c.values(layer, s.startPos()), b(v).at((long) s.firstRow() * kvDim), bytes);
            CUdeviceptr qRows = b(q).at((long) s.firstRow() * qDim), outRows = b(out).at((long) s.firstRow() * qDim);
            if (s.length() <= CudaLaunch.DECODE_MAX_ROWS) {
                int splits = CudaLaunch.decodeSplits(s.startPos() + s.length() - 1);
                try (CudaBuffer partial = new CudaBuffer(Math.toIntExact((long) s.length() * heads * splits * (headDim + 2)))) {
                    launch(CudaKernel.ATTENTION_DECODE_PARTIAL, heads, splits, s.length(), CudaLaunch.DECODE_THREADS, 0,
                            qRows, c.keys(layer, 0), c.values(layer, 0), partial.ptr, s.startPos(), heads, kvHeads,
                            headDim, scale);
                    launch(CudaKernel.ATTENTION_DECODE_COMBINE, heads, s.length(), 1, CudaLaunch.DECODE_THREADS, 0,
                            partial.ptr, outRows, heads, headDim, splits);
                }
            } else {
                launch(CudaKernel.ATTENTION_PREFILL, CudaLaunch.ceilDiv(s.length(), CudaLaunch.PREFILL_ROWS_PER_BLOCK), heads,
                        1, CudaLaunch.PREFILL_THREADS, CudaLaunch.prefillSharedBytes(headDim), qRows, c.keys(layer, 0),
                        c.values(layer, 0), outRows, s.length(), s.startPos(), heads, kvHeads, headDim, scale);
            }
        }
    }

    @Override
    public void siluMul(Buffer gate, Buffer up, int n) {
        enter();
        requireSize(gate, n, "siluMul");
        requireSize(up, n, "siluMul");
        if (n == 0) return;
        launch(CudaKernel.SILU_MUL, CudaLaunch.strideBlocks(n), 1, 1, CudaLaunch.THREADS, 0, b(gate).ptr, b(up).ptr, (long) n);
    }

    @Override
    public void add(Buffer x, Buffer y, int n) {
        enter();
        requireSize(x, n, "add");
        requireSize(y, n, "add");
        if (n == 0) return;
        launch(CudaKernel.ADD, CudaLaunch.strideBlocks(n), 1, 1, CudaLaunch.THREADS, 0, b(x).ptr, b(y).ptr, (long) n);
    }

    @Override
    public void gatherRows(Buffer src, int cols, int[] rows, Buffer out) {
        enter();
        for (int r : rows) {
            if (r < 0 || (long) (r + 1) * cols > src.size()) throw new IllegalArgumentException("row " + r + " outside the source");
        }
        requireSize(out, (long) rows.length * cols, "gatherRows");
        if (rows.length == 0) return;
        long n = (long) rows.length * cols;
        launch(CudaKernel.GATHER_ROWS, CudaLaunch.strideBlocks(n), 1, 1, CudaLaunch.THREADS, 0, b(src).ptr,
                indices.upload(rows), b(out).ptr, rows.length, cols);
    }

    @Override
    public TopKStats topKStats(Buffer logits, int rows, int vocab, int[] targets, int k) {
        enter();
        if (k < 1 || k > vocab) throw new IllegalArgumentException("k must be in [1, vocab]");
        if (k > CudaLaunch.TOPK_MAX_K) throw new IllegalArgumentException("the cuda top-k kernel keeps at most "
                + CudaLaunch.TOPK_MAX_K + " logits per row, not " + k);
        requireSize(logits, (long) rows * vocab, "topKStats");
        float[] prob = new float[rows], entropy = new float[rows];
        boolean[] in = new boolean[rows];
        if (rows == 0) return new TopKStats(prob, in, entropy);
        try (CudaBuffer stats = new CudaBuffer(3 * rows)) {
            launch(CudaKernel.TOPK_STATS, rows, 1, 1, CudaLaunch.THREADS, 0, b(logits).ptr,
                    indices.upload(Arrays.copyOf(targets, rows)), stats.ptr, vocab, k);
            float[] s = download(stats);
            for (int r = 0; r < rows; r++) {
                prob[r] = s[3 * r];
                in[r] = s[3 * r + 1] != 0f;
                entropy[r] = s[3 * r + 2];
            }
        }
        return new TopKStats(prob, in, entropy);
    }

    @Override
    public void close() {
        if (closed) return;
        JCudaDriver.cuCtxSetCurrent(context);
        closed = true;
        if (cublasLt != null) cublasLt.close();
        // the primary context outlives this backend where the runtime holds it too: free everything we allocated
        pool.close();
        for (CudaWeight w : residentWeights) JCudaDriver.cuMemFree(w.ptr);
        residentWeights.clear();
        for (CUmodule m : modules) JCudaDriver.cuModuleUnload(m);
        JCudaDriver.cuDevicePrimaryCtxRelease(device);
    }
}
