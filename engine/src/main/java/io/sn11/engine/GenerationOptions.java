package io.sn11.engine;

/**
 * How replies are generated.
 *
 * @param maxNewTokens longest reply in tokens
 * @param temperature  in [0, {@link Sampler#MAX_TEMPERATURE}]; 0 is greedy and reproducible
 * @param seed         seeds each sequence's sampler when the temperature is above 0
 * @param batchSize    conversations prefilled and decoded together
 */
public record GenerationOptions(int maxNewTokens, double temperature, long seed, int batchSize) {
    public GenerationOptions {
        if (maxNewTokens < 1) throw new IllegalArgumentException("max new tokens must be >= 1, got " + maxNewTokens);
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        Sampler.checkedTemperature(temperature);
    }

    public static GenerationOptions defaults() { return new GenerationOptions(256, 0, 0, 8); }

    public GenerationOptions withMaxNewTokens(int n) { return new GenerationOptions(n, temperature, seed, batchSize); }

    /** A fresh sampler for one sequence. */
    public Sampler sampler() { return Sampler.seeded(temperature, seed); }
}
