package io.sn11.gpunode.judge;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.sn11.engine.GenerationOptions;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class JudgeSettingsTest {
    static Config withDefaults(String hocon) {
        return ConfigFactory.parseString(hocon).withFallback(ConfigFactory.defaultReference()).resolve();
    }

    @Test
    void defaultsAreTheOfflineJudge() {
        JudgeSettings s = JudgeSettings.from(withDefaults(""));
        assertEquals(JudgeSettings.Kind.OFFLINE, s.kind());
        assertEquals(4, s.concurrency());
        assertEquals(Duration.ofSeconds(60), s.timeout());
        assertEquals(3, s.retries());
        assertEquals(Duration.ofSeconds(1), s.initialBackoff());
        assertEquals(Duration.ofSeconds(60), s.maxBackoff());
        assertEquals(List.of(), s.providers());
        assertEquals(new GenerationOptions(256, 0, 0, 8), s.generation());
        assertEquals("offline-heuristic-v1", Judge.create(s, Map.of()).name());
    }

    @Test
    void apiProvidersInOrderWithKeysFromTheEnvironment() {
        JudgeSettings s = JudgeSettings.from(withDefaults("""
                sn11.judge {
                  kind = api
                  concurrency = 8
                  providers = [
                    { name = openai, base-url = "https://api.openai.com/v1", model = "gpt-4o-mini", api-key-env = OPENAI_API_KEY }
                    { name = local, base-url = "http://127.0.0.1:8000/v1/", model = "llama-3.1-8b" }
                  ]
                  generation.temperature = 0.2
                }"""));
        assertEquals(List.of(
                new JudgeSettings.Provider("openai", URI.create("https://api.openai.com/v1"), "gpt-4o-mini", "OPENAI_API_KEY"),
                new JudgeSettings.Provider("local", URI.create("http://127.0.0.1:8000/v1/"), "llama-3.1-8b", null)),
                s.providers());
        assertEquals(0.2, s.generation().temperature());
        Judge judge = Judge.create(s, Map.of("OPENAI_API_KEY", "sk-1"));
        assertEquals("chat-completions[openai:gpt-4o-mini, local:llama-3.1-8b]", judge.name());
        assertEquals(8, judge.maxConcurrency());
        assertThrows(IllegalArgumentException.class, () -> Judge.create(s, Map.of()), "the key's variable is unset");
        // what a gpu-node checks at its start, before any evaluation makes a judge
        s.requireApiKeys(Map.of("OPENAI_API_KEY", "sk-1"));
        IllegalArgumentException unset = assertThrows(IllegalArgumentException.class, () -> s.requireApiKeys(Map.of()));
        assertTrue(unset.getMessage().contains("OPENAI_API_KEY"), unset.getMessage());
        JudgeSettings offline = new JudgeSettings(JudgeSettings.Kind.OFFLINE, s.concurrency(), s.timeout(), s.retries(),
                s.initialBackoff(), s.maxBackoff(), s.providers(), s.generation());
        offline.requireApiKeys(Map.of()); // the offline judge asks no provider
    }

    @Test
    void badValuesAreConfigurationErrors() {
        assertThrows(ConfigException.class, () -> JudgeSettings.from(withDefaults("sn11.judge.kind = oracle")));
        assertThrows(ConfigException.class, () -> JudgeSettings.from(withDefaults("sn11.judge.kind = api")));
        assertThrows(ConfigException.class, () -> JudgeSettings.from(withDefaults("sn11.judge.generation.temperature = 0.5")));
    }
}
