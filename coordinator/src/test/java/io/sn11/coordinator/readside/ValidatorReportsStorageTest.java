package io.sn11.coordinator.readside;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.sn11.coordinator.testing.TestDatabases;
import io.sn11.coordinator.testing.TestDatabases.Kind;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The validators' reports on both databases the coordinator runs on: each validator's latest state (a value a
 * report leaves out keeps the previous one), and the bounds that keep anonymous reports from filling the
 * database (the newest reports and validators kept, the oldest dropped).
 */
class ValidatorReportsStorageTest {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  @TempDir static Path tmp;
  private static TestDatabases databases;

  @BeforeAll
  static void databases() {
    databases = new TestDatabases(tmp);
  }

  @AfterAll
  static void stopPostgres() throws Exception {
    if (databases != null) databases.close();
  }

  private static ReadSide open(Kind kind) throws Exception {
    return ReadSide.open(databases.fresh(kind).settings(2));
  }

  private static ReadSide.ValidatorReport telemetry(String hotkey, int second, Integer uid, String commit, Long block) {
    return new ReadSide.ValidatorReport(T0.plusSeconds(second), "telemetry", hotkey, uid, "cold-" + hotkey, commit, "9.0.0", block, "{}");
  }

  private static long reportsStored(ReadSide readSide) throws Exception {
    try (Connection connection = readSide.dataSource().getConnection();
        Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery("SELECT COUNT(*) FROM validator_report")) {
      rows.next();
      return rows.getLong(1);
    }
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void theLatestStateKeepsWhatALaterReportLeavesOut(Kind kind) throws Exception {
    try (ReadSide readSide = open(kind)) {
      readSide.recordValidatorReport(telemetry("alice", 1, 3, "1a2b3c4d", 4_600_000L), 100, 100);
      readSide.recordValidatorReport(telemetry("alice", 2, null, "5e6f7a8b", null), 100, 100);
      ReadSide.ValidatorStatus alice = readSide.validators(10).get(0);
      assertEquals(new ReadSide.ValidatorStatus("alice", 3, "cold-alice", "5e6f7a8b", "9.0.0", 4_600_000L, T0.plusSeconds(2), 2), alice);

      readSide.recordValidatorReport(telemetry("bob", 3, null, null, null), 100, 100);
      ReadSide.ValidatorStatus bob = readSide.validators(10).get(0);
      assertEquals("bob", bob.hotkey());
      assertNull(bob.uid());
      assertNull(bob.lastBlock());
      assertEquals(List.of("bob"), readSide.validators(1).stream().map(ReadSide.ValidatorStatus::hotkey).toList());
    }
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void onlyTheNewestReportsAndValidatorsAreKept(Kind kind) throws Exception {
    try (ReadSide readSide = open(kind)) {
      for (int i = 0; i < 5; i++) readSide.recordValidatorReport(telemetry("validator-" + i, i, i, "1a2b3c4d", (long) i), 3, 2);
      assertEquals(3, reportsStored(readSide));
      assertEquals(List.of("validator-4", "validator-3"), readSide.validators(10).stream().map(ReadSide.ValidatorStatus::hotkey).toList());
    }
  }
}
