package io.sn11.coordinator.readside;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Optional;

/** One registry entry of {@code miner_registry}, with the model it names when that model is known. */
public record RegistryRow(int uid, String hotkey, String hash, long block, Instant updatedAt, Optional<ModelRow> model) {

  static RegistryRow read(ResultSet rows) throws SQLException {
    Optional<ModelRow> model = rows.getString("m_hash") == null ? Optional.empty() : Optional.of(ModelRow.read(rows, "m_"));
    return new RegistryRow(
        rows.getInt("uid"), rows.getString("hotkey"), rows.getString("hash"), rows.getLong("block"),
        rows.getTimestamp("updated_at").toInstant(), model);
  }
}
