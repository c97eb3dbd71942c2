package io.sn11.engine.safetensors;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One tensor: name, dtype, shape and its bytes (a read-only little-endian view, usually memory-mapped).
 * Element access decodes on the fly; nothing is copied.
 */
public final class Tensor {
    private final String name;
    private final DType dtype;
    private final long[] shape;
    private final ByteBuffer data;

    public Tensor(String name, DType dtype, long[] shape, ByteBuffer data) {
        this.name = name;
        this.dtype = dtype;
        this.shape = shape.clone();
        this.data = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        long expected = numElements() * dtype.bytes();
        if (this.data.remaining() != expected) {
            throw new SafetensorsException("tensor " + name + ": " + this.data.remaining() + " bytes for shape "
                    + Arrays.toString(shape) + " of " + dtype + " (expected " + expected + ")");
        }
    }

    public String name() { return name; }
    public DType dtype() { return dtype; }
    public long[] shape() { return shape.clone(); }
    public int rank() { return shape.length; }
    public long dim(int i) { return shape[i]; }

    /** A weight's extent as a matrix: {@code rows x cols}, a 1-D tensor being one row. */
    public record Matrix(int rows, int cols) {}

    /** This tensor as a backend holds a weight; refused unless it is 1-D or 2-D. */
    public Matrix asMatrix() {
        if (shape.length == 1) return new Matrix(1, Math.toIntExact(shape[0]));
        if (shape.length == 2) return new Matrix(Math.toIntExact(shape[0]), Math.toIntExact(shape[1]));
        throw new IllegalArgumentException("weight " + name + " must be 1-D or 2-D");
    }

    /** A read-only little-endian view of the raw bytes, position 0. */
    public ByteBuffer data() { return data.duplicate().order(ByteOrder.LITTLE_ENDIAN); }

    public long numElements() {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    /** Element i (flat, row-major) as float. */
    public float getFloat(long i) {
        int idx = Math.toIntExact(i);
        switch (dtype) {
            case F32: return data.getFloat(idx * 4);
            case F16: return DType.halfToFloat(data.getShort(idx * 2));
            default: return DType.bf16ToFloat(data.getShort(idx * 2));
        }
    }

    /** All elements decoded to float (for small tensors: norms, biases, tests). */
    public float[] toFloatArray() {
        int n = Math.toIntExact(numElements());
        float[] out = new float[n];
        for (int i = 0; i < n; i++) out[i] = getFloat(i);
        return out;
    }

    @Override
    public String toString() { return name + " " + dtype + Arrays.toString(shape); }
}
