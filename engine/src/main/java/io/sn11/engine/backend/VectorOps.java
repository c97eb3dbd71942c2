package io.sn11.engine.backend;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The element-wise and per-row kernels of {@link VectorBackend} (rmsnorm, rope, siluMul, add, the top-k selection),
 * each on one row or one range so that the backend splits the work over its threads. Loops run whole vectors of the
 * preferred species (16 floats with AVX-512) and finish the remainder with scalar code. Where the reference rounds each
 * step in F32 (rope, the scaling of rmsnorm, add) these kernels use the same operations, without fused multiply-adds,
 * and agree with it bit for bit; the sum of squares differs only in summation order; the top-k selection is exact.
 */
final class VectorOps {
    private VectorOps() {}

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    /** {@code out[base..base+n) = x / sqrt(mean(x^2) + eps) * w} over one row; {@code w} is the decoded weight. */
    static void rmsnormRow(float[] x, int base, int n, float[] w, float eps, float[] out) {
        // F32 accumulation in every lane: each lane sums n / 16 squares, close to the reference's double sum
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            FloatVector v = FloatVector.fromArray(F, x, base + i);
            acc = v.fma(v, acc);
        }
        double ss = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) ss += (double) x[base + i] * x[base + i];
        float scale = (float) (1.0 / Math.sqrt(ss / n + eps));
        i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            FloatVector.fromArray(F, x, base + i).mul(scale).mul(FloatVector.fromArray(F, w, i)).intoArray(out, base + i);
        }
        for (; i < n; i++) out[base + i] = x[base + i] * scale * w[i];
    }

    /** {@code gate[i] = silu(gate[i]) * up[i]} for i in [from, to). */
    static void siluMul(float[] gate, float[] up, int from, int to) {
        int i = from;
        // lanewise EXP is an SVML intrinsic on x86 (within an ulp or so of Math.exp)
        for (int bound = from + F.loopBound(to - from); i < bound; i += F.length()) {
            FloatVector x = FloatVector.fromArray(F, gate, i);
            FloatVector sigmoidDenominator = x.neg().lanewise(VectorOperators.EXP).add(1f);
            x.div(sigmoidDenominator).mul(FloatVector.fromArray(F, up, i)).intoArray(gate, i);
        }
        for (; i < to; i++) gate[i] = gate[i] / (1f + (float) Math.exp(-gate[i])) * up[i];
    }

    /** {@code x[i] += y[i]} for i in [0, n). */
    static void add(float[] x, float[] y, int n) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            FloatVector.fromArray(F, x, i).add(FloatVector.fromArray(F, y, i)).intoArray(x, i);
        }
        for (; i < n; i++) x[i] += y[i];
    }

    /**
     * Rotary embedding of one row of {@code heads} heads at {@code position}: the angles' cosines and sines are computed
     * once into {@code cosSin} (cosines in the first headDim / 2 floats, sines in the next) and serve every head.
     */
    static void ropeRow(float[] x, int row, int heads, int headDim, int position, float[] invFreq, float[] cosSin) {
        int half = headDim / 2;
        for (int i = 0; i < half; i++) {
            float angle = position * invFreq[i];  // rounded to F32 first, as the reference does
            cosSin[i] = (float) Math.cos(angle);
            cosSin[half + i] = (float) Math.sin(angle);
        }
        for (int h = 0; h < heads; h++) {
            int lo = (row * heads + h) * headDim, hi = lo + half;
            int i = 0;
            for (int bound = F.loopBound(half); i < bound; i += F.length()) {
                FloatVector x0 = FloatVector.fromArray(F, x, lo + i), x1 = FloatVector.fromArray(F, x, hi + i);
                FloatVector c = FloatVector.fromArray(F, cosSin, i), s = FloatVector.fromArray(F, cosSin, half + i);
                x0.mul(c).sub(x1.mul(s)).intoArray(x, lo + i);
                x1.mul(c).add(x0.mul(s)).intoArray(x, hi + i);
            }
            for (; i < half; i++) {
                float x0 = x[lo + i], x1 = x[hi + i];
                float c = cosSin[i], s = cosSin[half + i];
                x[lo + i] = x0 * c - x1 * s;
                x[hi + i] = x1 * c + x0 * s;
            }
        }
    }

    /**
     * The ids of the k largest of {@code l[base..base+n)} exactly as {@link ScalarBackend#topK}: the first k values enter
     * unconditionally, then a vector compare skips every lane not above the current k-th largest (nearly all of a
     * 128k vocabulary) and only the lanes above it are offered, in id order, one by one.
     */
    static int[] topK(float[] l, int base, int n, int k) {
        TopK top = new TopK(k);
        int i = 0;
        for (; i < k; i++) top.offer(l[base + i], i);
        for (int bound = k + F.loopBound(n - k); i < bound; i += F.length()) {
            long above = FloatVector.fromArray(F, l, base + i).compare(VectorOperators.GT, top.smallest()).toLong();
            // the threshold only rises while this vector's lanes are offered: a lane above it is checked again
            for (; above != 0; above &= above - 1) {
                int lane = Long.numberOfTrailingZeros(above);
                top.offer(l[base + i + lane], i + lane);
            }
        }
        for (; i < n; i++) top.offer(l[base + i], i);
        return top.ids;
    }
}
