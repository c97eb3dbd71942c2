package io.sn11.engine.backend;

import io.sn11.engine.model.ModelConfig;
import io.sn11.engine.model.RopeScaling;

/** Inverse rotary frequencies per pair index, with the Llama-3 frequency scaling applied when configured. */
public final class RopeTable {
    private RopeTable() {}

    public static float[] inverseFrequencies(ModelConfig c) {
        return inverseFrequencies(c.headDim(), c.ropeTheta(), c.ropeScaling());
    }

    public static float[] inverseFrequencies(int headDim, double theta, RopeScaling s) {
        int half = headDim / 2;
        float[] inv = new float[half];
        for (int i = 0; i < half; i++) {
            double f = 1.0 / Math.pow(theta, (2.0 * i) / headDim);
            if (s != null) f = llama3Scale(f, s);
            inv[i] = (float) f;
        }
        return inv;
    }

    /** Long wavelengths are divided by the factor, short ones kept, the band between interpolated smoothly. */
    static double llama3Scale(double freq, RopeScaling s) {
        double lowFreqWavelen = s.originalMaxPositionEmbeddings() / s.lowFreqFactor();
        double highFreqWavelen = s.originalMaxPositionEmbeddings() / s.highFreqFactor();
        double wavelen = 2 * Math.PI / freq;
        if (wavelen < highFreqWavelen) return freq;
        if (wavelen > lowFreqWavelen) return freq / s.factor();
        double smooth = (s.originalMaxPositionEmbeddings() / wavelen - s.lowFreqFactor())
                / (s.highFreqFactor() - s.lowFreqFactor());
        return (1 - smooth) * freq / s.factor() + smooth * freq;
    }
}
