package io.sn11.gpunode.judge;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import io.sn11.engine.GenerationOptions;

import java.net.URI;
import java.nio.file.Path;
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
                            GenerationOptions generation, EngineModel engine) {

    public enum Kind { OFFLINE, API, ENGINE }

    /**
     * The judge model of the {@code engine} kind ({@code sn11.judge.model}): a model store folder
     * {@code repository@revision} (fetched from the Hub when missing), or an operator's folder {@code path}, which wins.
     *
     * @param repository   {@code namespace/name}, or blank
     * @param path         a local model folder, or null
     * @param chatTemplate how the judge prompt is rendered for this model (one of the engine's chat templates)
     * @param batchSize    comparisons judged in one batched generation
     * @param maxNewTokens longest verdict in tokens; the constraint closes the verdict within it
     */
    public record EngineModel(String repository, String revision, Path path, String chatTemplate, int batchSize,
                              int maxNewTokens) {
        public EngineModel {
            if (batchSize < 1) throw new IllegalArgumentException("model.batch-size must be >= 1, got " + batchSize);
            if (maxNewTokens < 1) throw new IllegalArgumentException("model.max-new-tokens must be >= 1, got " + maxNewTokens);
        }

        public boolean configured() { return path != null || !repository.isBlank(); }

        /** How the judge model is named in its identity: the folder, else {@code namespace/name@revision}. */
        public String describe() { return path != null ? path.toString() : repository + "@" + revision; }
    }

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
        if (kind == Kind.ENGINE && !engine.configured()) {
            throw new IllegalArgumentException("sn11.judge.kind = engine needs sn11.judge.model.repository or sn11.judge.model.path");
        }
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
                    c.getDuration("max-backoff"), providers, generation, engineModel(c.getConfig("model")));
        } catch (IllegalArgumentException e) {
            throw new ConfigException.BadValue(c.origin(), "sn11.judge", e.getMessage(), e);
        }
    }

    private static EngineModel engineModel(Config m) {
        String path = m.getString("path");
        String repository = m.getString("repository").strip();
        if (!repository.isEmpty() && !repository.matches("[^/\\s]+/[^/\\s]+")) {
            throw new IllegalArgumentException("sn11.judge.model.repository must be namespace/name, got '" + repository + "'");
        }
        String template = io.sn11.engine.tokenizer.ChatTemplate.byName(m.getString("chat-template")).id();
        return new EngineModel(repository, m.getString("revision"), path.isBlank() ? null : Path.of(path).toAbsolutePath().normalize(),
                template, m.getInt("batch-size"), m.getInt("max-new-tokens"));
    }

    private static Kind kind(String value) {
        try {
            return Kind.valueOf(value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("sn11.judge.kind must be offline, api or engine, got '" + value + "'");
        }
    }
}
