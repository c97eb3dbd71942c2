package io.sn11.launcher;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/** Embedded PostgreSQL with PostgreSQL's own durability defaults, for the load benchmark and the fault tests. */
public final class DurablePostgres {
  private DurablePostgres() {}

  /**
   * The embedded server turns fsync and synchronous_commit off for tests; a production journal has both on
   * and pays for them, so what measures or checks the journal should too.
   */
  public static EmbeddedPostgres.Builder builder() {
    return EmbeddedPostgres.builder().setServerConfig("fsync", "on").setServerConfig("synchronous_commit", "on").setServerConfig("full_page_writes", "on");
  }
}
