package io.sn11.cluster.node;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sn11.cluster.testing.TestKeyStores;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.StreamSupport;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two nodes form a cluster over mutual TLS (Artery tls-tcp) with the settings of config/tls.conf. */
class RemotingTlsTest {
  private static final String PASSWORD = "test-store-password";
  @TempDir Path dir;

  private Map<String, Object> tls(Path store) {
    Map<String, Object> options = new HashMap<>();
    options.put("pekko.remote.artery.transport", "tls-tcp");
    String engine = "pekko.remote.artery.ssl.config-ssl-engine.";
    options.put(engine + "key-store", store.toString());
    options.put(engine + "key-store-password", PASSWORD);
    options.put(engine + "key-password", PASSWORD);
    options.put(engine + "trust-store", store.toString());
    options.put(engine + "trust-store-password", PASSWORD);
    options.put(engine + "protocol", "TLSv1.3");
    options.put(engine + "enabled-algorithms", List.of("TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256"));
    options.put(engine + "require-mutual-authentication", "on");
    options.put("pekko.cluster.jmx.multi-mbeans-in-same-jvm", "on");
    options.put("pekko.remote.artery.canonical.port", 0);
    options.put("pekko.management.http.port", 0);
    return options;
  }

  @Test
  void twoNodesJoinOverMutualTls() throws Exception {
    // One key store serves both nodes as key and trust store: each trusts the certificate the other shows.
    Path store = TestKeyStores.selfSigned(dir.resolve("cluster.p12"), PASSWORD);
    try (Sn11Node first = Sn11Node.start(NodeConfig.load(tls(store), null, null), List.of())) {
      Map<String, Object> second = tls(store);
      second.put("pekko.cluster.seed-nodes", List.of(Cluster.get(first.system()).selfMember().address().toString()));
      try (Sn11Node joined = Sn11Node.start(NodeConfig.load(second, null, null), List.of())) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        long up = 0;
        while (up < 2 && System.nanoTime() < deadline) {
          Thread.sleep(50);
          up = StreamSupport.stream(Cluster.get(first.system()).state().getMembers().spliterator(), false)
              .filter(member -> member.status() == MemberStatus.up())
              .count();
        }
        assertEquals(2, up, "both nodes Up, seen from the first");
        assertEquals("tls-tcp", first.system().settings().config().getString("pekko.remote.artery.transport"));
      }
    }
  }
}
