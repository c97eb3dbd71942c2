package io.sn11.gpunode.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.sn11.cluster.domain.JudgeIdentity;
import io.sn11.cluster.scoring.ScoringFingerprint;
import io.sn11.cluster.scoring.ScoringSettings;
import io.sn11.engine.EngineVersion;
import io.sn11.engine.data.SyntheticDataset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeFingerprintTest {
  private static final JudgeIdentity OFFLINE = new JudgeIdentity("offline", "offline-heuristic-v1", null, null);

  @TempDir Path dir;

  private static ScoringFingerprint fingerprint(Map<String, Object> settings, JudgeIdentity judge) throws Exception {
    Config config = ConfigFactory.parseMap(settings).withFallback(ConfigFactory.defaultReference()).resolve();
    return NodeFingerprint.of(GpuNodeSettings.fromConfig(config), ScoringSettings.fromConfig(config), judge, name -> name.equals("auto") ? "cuda" : name);
  }

  private static ScoringFingerprint fingerprint(Map<String, Object> settings) throws Exception {
    return fingerprint(settings, OFFLINE);
  }

  @Test
  void aDatasetFileCountsByTheDigestOfItsBytes() throws Exception {
    Path dataset = Files.writeString(dir.resolve("one.jsonl"), "{\"id\":\"x\"}\n");
    Map<String, String> components = fingerprint(Map.of("sn11.gpu-node.evaluation.dataset", dataset.toString())).components();
    // printf '{"id":"x"}\n' | sha256sum
    assertEquals("551dd78288bd82f529e1697be1f74b91d5ae2278319f014218a93b2a997ca0f7", components.get("dataset.sha256"));
    assertEquals("sha256:" + "551dd78288bd82f529e1697be1f74b91d5ae2278319f014218a93b2a997ca0f7".substring(0, 16), components.get("dataset.version"));
  }

  @Test
  void theSyntheticDatasetScoresAsAFileHoldingTheConversationsItGenerates() throws Exception {
    Path dataset = dir.resolve("synthetic.jsonl");
    SyntheticDataset.generate(11, 256).write(dataset);
    assertEquals(fingerprint(Map.of()).id(), fingerprint(Map.of("sn11.gpu-node.evaluation.dataset", dataset.toString())).id());
    assertNotEquals(fingerprint(Map.of()).id(), fingerprint(Map.of("sn11.gpu-node.evaluation.synthetic-seed", 12)).id());
  }

  @Test
  void whatShapesAScoreChangesTheIdAndWhatOnlyChangesSpeedDoesNot() throws Exception {
    String defaults = fingerprint(Map.of()).id();
    for (Map.Entry<String, Object> shaping :
        Map.<String, Object>of(
                "sn11.gpu-node.evaluation.samples", 4,
                "sn11.gpu-node.evaluation.max-tokens", 1024,
                "sn11.gpu-node.evaluation.batch-size", 2,
                "sn11.gpu-node.backend", "scalar",
                "sn11.judge.generation.max-new-tokens", 24,
                "sn11.scoring.total-score-rule", "composite",
                "sn11.scoring.creativity-threshold", 0.25)
            .entrySet()) {
      assertNotEquals(defaults, fingerprint(Map.of(shaping.getKey(), shaping.getValue())).id(), shaping::toString);
    }
    for (Map.Entry<String, Object> speed :
        Map.<String, Object>of(
                "sn11.gpu-node.slots", 3,
                "sn11.gpu-node.threads", 2,
                "sn11.gpu-node.evaluation.child.max-heap", "1g",
                "sn11.gpu-node.evaluation.timeout", "1h",
                "sn11.scoring.softmax-temperature", 0.5)
            .entrySet()) {
      assertEquals(defaults, fingerprint(Map.of(speed.getKey(), speed.getValue())).id(), speed::toString);
    }
    assertNotEquals(defaults, fingerprint(Map.of(), new JudgeIdentity("api", "openai:gpt-4o-mini", null, null)).id());
  }

  @Test
  void itNamesTheEngineTheResolvedBackendAndTheJudge() throws Exception {
    Map<String, String> components = new HashMap<>(fingerprint(Map.of()).components());
    assertEquals(EngineVersion.VERSION, components.get("engine.version"));
    assertEquals("cuda", components.get("backend"), "auto as this machine resolves it");
    assertEquals("offline", components.get("judge.kind"));
    assertEquals("offline-heuristic-v1", components.get("judge.model"));
    assertEquals("16", components.get("evaluation.samples"));
    assertEquals("judge", components.get("scoring.total-score-rule"));
  }
}
