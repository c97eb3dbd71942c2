package io.sn11.gpunode.judge;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import io.sn11.engine.GenerationOptions;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code sn11.judge} block of the configuration (defaults in the module's {@code reference.conf}). How
 * many failed judgements fail an evaluation is a scoring rule: {@code sn11.scoring.max-failed-judgement-fraction}.
 */
public record JudgeSettings(Kind kind, int concurrency, Duration timeout, int retries,
                            Duration initialBackoff, Duration maxBackoff, List<Provider> providers,
                            GenerationOptions generation) {

    public enum Kind { OFFLINE, API }

    /**
     * One OpenAI-compatible endpoint.
     *
     * @param baseUrl   e.g. {@code https://api.openai.com/v1}; requests go to {@code baseUrl + "/chat/completions"}
     * @param apiKeyEnv the environment variable holding the key, or null when the server needs none
     */
    public record Provider(String name, URI baseUrl, String model, String apiKeyEnv) {
        /** The API key from {@code env}; null when the provider needs none, an error when its variable is not set. */
        public String apiKey(Map<String, String> env) {
            if (apiKeyEnv == null) return null;
            String key = env.get(apiKeyEnv);
            if (key == null || key.isBlank()) {
                throw new IllegalArgumentException("judge provider " + name + ": environment variable " + apiKeyEnv + " (its API key) is not set");
            }
            return key;
        }
    }

    public JudgeSettings {
        providers = List.copyOf(providers);
        if (concurrency < 1) throw new IllegalArgumentException("concurrency must be >= 1, got " + concurrency);
        if (retries < 0) throw new IllegalArgumentException("retries must be >= 0, got " + retries);
        if (kind == Kind.API && providers.isEmpty()) {
            throw new IllegalArgumentException("sn11.judge.kind = api needs at least one entry in sn11.judge.providers");
        }
    }

    /** Fails, naming the variable, when the api judge would miss a provider's API key in {@code env}. */
    public void requireApiKeys(Map<String, String> env) {
        if (kind == Kind.API) providers.forEach(p -> p.apiKey(env));
    }

    /** Reads {@code sn11.judge} from a resolved configuration that includes the module's reference.conf. */
    public static JudgeSettings from(Config root) {
        Config c = root.getConfig("sn11.judge");
        try {
            Config g = c.getConfig("generation");
            GenerationOptions generation = new GenerationOptions(g.getInt("max-new-tokens"), g.getDouble("temperature"),
                    g.getLong("seed"), g.getInt("batch-size"));
            List<Provider> providers = c.getConfigList("providers").stream()
                    .map(p -> new Provider(p.getString("name"), URI.create(p.getString("base-url")), p.getString("model"),
                            p.hasPath("api-key-env") ? p.getString("api-key-env") : null))
                    .toList();
            return new JudgeSettings(kind(c.getString("kind")), c.getInt("concurrency"),
                    c.getDuration("timeout"), c.getInt("retries"), c.getDuration("initial-backoff"),
                    c.getDuration("max-backoff"), providers, generation);
        } catch (IllegalArgumentException e) {
            throw new ConfigException.BadValue(c.origin(), "sn11.judge", e.getMessage(), e);
        }
    }

    private static Kind kind(String value) {
        try {
            return Kind.valueOf(value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("sn11.judge.kind must be offline or api, got '" + value + "'");
        }
    }
}
