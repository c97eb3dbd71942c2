package io.sn11.engine.safetensors;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One tensor: name, dtype, shape and its bytes (a read-only little-endian segment, usually a slice of a
 * memory-mapped file). Element access decodes on the fly; nothing is copied.
 */
public final class Tensor {
    /** Element layouts of the safetensors format: little-endian, no alignment promised (the header has any length). */
    public static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final String name;
    private final DType dtype;
    private final long[] shape;
    private final MemorySegment data;

    public Tensor(String name, DType dtype, long[] shape, MemorySegment data) {
        this.name = name;
        this.dtype = dtype;
        this.shape = shape.clone();
        this.data = data.asReadOnly();
        long expected = numElements() * dtype.bytes();
        if (data.byteSize() != expected) {
            throw new SafetensorsException("tensor " + name + ": " + data.byteSize() + " bytes for shape "
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

    /** The raw bytes, read-only; read them with {@link #SHORT_LE} / {@link #FLOAT_LE}. */
    public MemorySegment data() { return data; }

    public long numElements() {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    /** Element i (flat, row-major) as float. */
    public float getFloat(long i) {
        return switch (dtype) {
            case F32 -> data.getAtIndex(FLOAT_LE, i);
            case F16 -> DType.halfToFloat(data.getAtIndex(SHORT_LE, i));
            case BF16 -> DType.bf16ToFloat(data.getAtIndex(SHORT_LE, i));
        };
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
