package io.sn11.engine.safetensors;

import java.util.Locale;

/** The element types the engine reads and writes. Others are rejected when a file is opened. */
public enum DType {
    F32(4), F16(2), BF16(2);

    private final int bytes;

    DType(int bytes) { this.bytes = bytes; }

    /** Size of one element in bytes. */
    public int bytes() { return bytes; }

    /** Parses "f32", "F16", "bf16" (case-insensitive); throws IllegalArgumentException otherwise. */
    public static DType parse(String s) {
        try {
            return valueOf(s.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown dtype '" + s + "'; supported: f32, f16, bf16");
        }
    }

    // ---- element conversions (IEEE 754 half and bfloat16 bit patterns) ----

    private static final float[] F16_TABLE = new float[1 << 16];
    static {
        for (int i = 0; i < F16_TABLE.length; i++) F16_TABLE[i] = halfBitsToFloatSlow((short) i);
    }

    /** Half precision bits to float, via a 64K-entry table (exact). */
    public static float halfToFloat(short bits) { return F16_TABLE[bits & 0xffff]; }

    /** bfloat16 bits to float: the upper 16 bits of an IEEE single. */
    public static float bf16ToFloat(short bits) { return Float.intBitsToFloat((bits & 0xffff) << 16); }

    /** float to bfloat16 bits, round to nearest even; NaN stays a (quiet) NaN. */
    public static short floatToBf16(float f) {
        int x = Float.floatToRawIntBits(f);
        if ((x & 0x7fffffff) > 0x7f800000) return (short) ((x >>> 16) | 0x0040);
        int rounding = 0x7fff + ((x >>> 16) & 1);
        return (short) ((x + rounding) >>> 16);
    }

    static float halfBitsToFloatSlow(short h) {
        int bits = h & 0xffff;
        int sign = (bits >>> 15) & 1;
        int exp = (bits >>> 10) & 0x1f;
        int mant = bits & 0x3ff;
        float value;
        if (exp == 0) {
            value = mant * 0x1p-24f; // subnormal: mant * 2^-14 * 2^-10
        } else if (exp == 31) {
            value = mant == 0 ? Float.POSITIVE_INFINITY : Float.NaN;
        } else {
            value = Float.intBitsToFloat(((exp - 15 + 127) << 23) | (mant << 13));
        }
        return sign == 1 ? -value : value;
    }

    /** float to IEEE half bits, round to nearest even, overflow to infinity. */
    public static short floatToHalf(float f) {
        int x = Float.floatToRawIntBits(f);
        int sign = (x >>> 16) & 0x8000;
        int abs = x & 0x7fffffff;
        if (abs > 0x7f800000) return (short) (sign | 0x7e00);            // NaN
        if (abs >= 0x477ff000) return (short) (sign | 0x7c00);           // >= 65520 rounds to inf
        if (abs < 0x38800000) {                                          // below smallest normal 2^-14
            if (abs < 0x33000000) return (short) sign;                   // < 2^-25 rounds to 0
            int e = abs >>> 23;
            int m = (abs & 0x7fffff) | 0x800000;
            int shift = 126 - e;                                         // 14+? : maps to subnormal mantissa
            // value = m * 2^(e-150); subnormal unit 2^-24 -> mantissa = m * 2^(e-126) ; shift right by (126-e)
            int sub = m >>> shift;
            int rem = m & ((1 << shift) - 1);
            int half = 1 << (shift - 1);
            if (rem > half || (rem == half && (sub & 1) == 1)) sub++;
            return (short) (sign | sub);
        }
        int e = (abs >>> 23) - 127 + 15;
        int m = abs & 0x7fffff;
        int h = (e << 10) | (m >>> 13);
        int rem = m & 0x1fff;
        if (rem > 0x1000 || (rem == 0x1000 && (h & 1) == 1)) h++;
        return (short) (sign | h);
    }
}
