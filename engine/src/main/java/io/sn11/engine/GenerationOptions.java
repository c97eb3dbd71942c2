package io.sn11.engine;

import io.sn11.engine.json.JsonConstraint;

/**
 * How replies are generated.
 *
 * @param maxNewTokens longest reply in tokens
 * @param temperature  in [0, {@link Sampler#MAX_TEMPERATURE}]; 0 is greedy and reproducible
 * @param seed         seeds each sequence's sampler when the temperature is above 0
 * @param batchSize    conversations prefilled and decoded together
 * @param constraint   null for free text; else every reply is a complete document of the constraint's shape, ended
 *                     by the document's end rather than by the template's markers
 */
public record GenerationOptions(int maxNewTokens, double temperature, long seed, int batchSize, JsonConstraint constraint) {
    public GenerationOptions {
        if (maxNewTokens < 1) throw new IllegalArgumentException("max new tokens must be >= 1, got " + maxNewTokens);
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        Sampler.checkedTemperature(temperature);
        if (constraint != null && maxNewTokens < constraint.minTokens()) {
            throw new IllegalArgumentException("max new tokens " + maxNewTokens + " is below the "
                    + constraint.minTokens() + " tokens the shortest constrained reply takes");
        }
    }

    /** Free text. */
    public GenerationOptions(int maxNewTokens, double temperature, long seed, int batchSize) {
        this(maxNewTokens, temperature, seed, batchSize, null);
    }

    public static GenerationOptions defaults() { return new GenerationOptions(256, 0, 0, 8); }

    public GenerationOptions withMaxNewTokens(int n) { return new GenerationOptions(n, temperature, seed, batchSize, constraint); }

    public GenerationOptions withConstraint(JsonConstraint c) {
        return new GenerationOptions(maxNewTokens, temperature, seed, batchSize, c);
    }

    /** A fresh sampler for one sequence. */
    public Sampler sampler() { return Sampler.seeded(temperature, seed); }
}
