package io.sn11.coordinator.persistence;

import com.typesafe.config.Config;
import io.sn11.cluster.metrics.Sn11Metrics;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.persistence.AtomicWrite;
import org.apache.pekko.persistence.jdbc.journal.JdbcAsyncWriteJournal;
import scala.collection.immutable.Seq;
import scala.concurrent.Future;
import scala.jdk.javaapi.FutureConverters;
import scala.runtime.BoxedUnit;
import scala.util.Try;

/**
 * The JDBC journal, with every batch write timed into {@code sn11_journal_write_seconds}: the time the
 * database takes to store events, apart from everything else an entity command costs.
 */
public final class TimedJdbcJournal extends JdbcAsyncWriteJournal {
  private final Sn11Metrics metrics;

  /** Made by Pekko Persistence from {@code jdbc-journal.class}. */
  public TimedJdbcJournal(Config config) {
    super(config);
    this.metrics = Sn11Metrics.get(Adapter.toTyped(context().system()));
  }

  @Override
  public Future<Seq<Try<BoxedUnit>>> asyncWriteMessages(Seq<AtomicWrite> messages) {
    long started = System.nanoTime();
    Future<Seq<Try<BoxedUnit>>> written = super.asyncWriteMessages(messages);
    FutureConverters.asJava(written)
        .whenComplete(
            (results, failure) ->
                metrics.journalWrites.labelValues(failure == null ? "ok" : "failed").observe((System.nanoTime() - started) / 1e9));
    return written;
  }
}
