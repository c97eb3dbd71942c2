package io.sn11.cluster.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.cbor.CBORFactory;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.jackson.JacksonObjectMapperProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Verdicts as the journal stores them (CBOR): with the judge's identity, and as stored before verdicts recorded it. */
class VerdictRecordTest {
  /** The serialization every node runs with (the packaged defaults' bindings and Jackson modules), without a cluster. */
  static final ActorTestKit testKit = ActorTestKit.create(serializationConfig());
  static final Serialization serialization = SerializationExtension.get(testKit.system().classicSystem());

  static Config serializationConfig() {
    Config cluster = ConfigFactory.parseResources("sn11/defaults/cluster.conf");
    return ConfigFactory.load(cluster.withOnlyPath("pekko.actor.serialization-bindings").withFallback(cluster.withOnlyPath("pekko.serialization")));
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  static VerdictRecord verdict(JudgeIdentity identity) {
    return new VerdictRecord("s1", "You are Mira.", List.of(new VerdictRecord.Turn("user", "Hello?")), "Ah, hello.", "Hi!",
        "original", "generated", "tie", "r", "e", "c", "engine[acme/judge@main]", null, identity);
  }

  @Test
  void aVerdictComesBackWithItsJudgesIdentity() {
    VerdictRecord v = verdict(new JudgeIdentity("engine", "acme/judge@main", "ab".repeat(32), "sn11-engine/0.1.0"));
    Serializer serializer = serialization.findSerializerFor(v);
    assertEquals("JacksonCborSerializer", serializer.getClass().getSimpleName(), "the journal's binding");
    byte[] bytes = serialization.serialize(v).get();
    assertEquals(v, serialization.deserialize(bytes, serializer.identifier(), VerdictRecord.class.getName()).get());
  }

  @Test
  void aVerdictStoredBeforeIdentitiesReadsWithoutOne() throws Exception {
    ObjectMapper cbor = JacksonObjectMapperProvider.get(testKit.system().classicSystem()).getOrCreate("jackson-cbor", Optional.of(new CBORFactory()));
    ObjectNode old = cbor.valueToTree(verdict(null));
    old.remove("judgeIdentity"); // the record's thirteen fields before this one
    assertEquals(13, old.size(), old::toString);
    VerdictRecord v = verdict(null);
    Serializer serializer = serialization.findSerializerFor(v);
    VerdictRecord read = (VerdictRecord) serialization.deserialize(cbor.writeValueAsBytes(old), serializer.identifier(), VerdictRecord.class.getName()).get();
    assertEquals(v, read);
    assertNull(read.judgeIdentity());
    // and the JSON of the read side's stored bodies
    ObjectNode json = new ObjectMapper().valueToTree(v);
    json.remove("judgeIdentity");
    assertEquals(v, new ObjectMapper().readValue(json.toString(), VerdictRecord.class));
  }
}
