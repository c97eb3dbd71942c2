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
    /** The defaults of sn11.judge.model: no judge model. */
    static final JudgeSettings.EngineModel NO_MODEL = new JudgeSettings.EngineModel("", "main", null, "chatml", 8, 512);

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
        assertEquals(NO_MODEL, s.engine());
        assertEquals("offline-heuristic-v1", Judge.create(s, Map.of(), NO_LOADS).name());
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
        Judge judge = Judge.create(s, Map.of("OPENAI_API_KEY", "sk-1"), NO_LOADS);
        assertEquals("chat-completions[openai:gpt-4o-mini, local:llama-3.1-8b]", judge.name());
        assertEquals(8, judge.maxConcurrency());
        // what a gpu-node's start does: a provider's key missing stops it, naming the variable
        IllegalArgumentException unset = assertThrows(IllegalArgumentException.class, () -> Judge.create(s, Map.of(), NO_LOADS));
        assertTrue(unset.getMessage().contains("OPENAI_API_KEY"), unset.getMessage());
    }

    /** The judges without a model never load one. */
    static final EngineJudge.Loader NO_LOADS = model -> {
        throw new AssertionError("loaded a judge model: " + model);
    };

    @Test
    void anEngineJudgeNamesItsModelByRepositoryOrFolder() {
        JudgeSettings s = JudgeSettings.from(withDefaults("""
                sn11.judge { kind = engine, model { repository = "acme/judge-8b", revision = v2, chat-template = llama3, batch-size = 16 } }"""));
        assertEquals(JudgeSettings.Kind.ENGINE, s.kind());
        assertEquals(new JudgeSettings.EngineModel("acme/judge-8b", "v2", null, "llama3", 16, 512), s.engine());
        assertEquals("acme/judge-8b@v2", s.engine().describe());
        List<JudgeSettings.EngineModel> loaded = new java.util.ArrayList<>();
        Judge offline = new OfflineJudge();
        assertSame(offline, Judge.create(s, Map.of(), model -> {
            loaded.add(model);
            return offline;
        }));
        assertEquals(List.of(s.engine()), loaded, "the engine kind loads its model, once");
        JudgeSettings local = JudgeSettings.from(withDefaults("sn11.judge { kind = engine, model.path = \"/models/judge\" }"));
        assertEquals("/models/judge", local.engine().describe());
    }

    @Test
    void badValuesAreConfigurationErrors() {
        assertThrows(ConfigException.class, () -> JudgeSettings.from(withDefaults("sn11.judge.kind = oracle")));
        assertThrows(ConfigException.class, () -> JudgeSettings.from(withDefaults("sn11.judge.kind = api")));
        assertThrows(ConfigException.class, () -> JudgeSettings.from(withDefaults("sn11.judge.generation.temperature = 0.5")));
        assertThrows(ConfigException.class, () -> JudgeSettings.from(withDefaults("sn11.judge.kind = engine")), "no model named");
        assertThrows(ConfigException.class, () -> JudgeSettings.from(withDefaults("sn11.judge { kind = engine, model.repository = judge }")));
        assertThrows(ConfigException.class, () -> JudgeSettings.from(withDefaults("sn11.judge { kind = engine, model { path = /j, chat-template = nope } }")));
        assertThrows(ConfigException.class, () -> JudgeSettings.from(withDefaults("sn11.judge { kind = engine, model { path = /j, batch-size = 0 } }")));
    }
}
