package io.sn11.coordinator.http;

import java.time.Duration;
import java.util.OptionalLong;
import org.apache.pekko.Done;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.ResponseEntity;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.BidiShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.stage.AbstractGraphStageWithMaterializedValue;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.stream.stage.TimerGraphStageLogic;
import org.apache.pekko.util.ByteString;

/**
 * Sits between one connection's HTTP layer and the request handler and closes the connection when, from
 * its open or the end of its last response, the next request's header is not complete within the
 * deadline. The HTTP layer hands a request on only once its header is parsed, so an idle connection and
 * one sending its header a byte at a time look the same here: no request. Pekko's idle-timeout misses the
 * second, since bytes keep arriving. Materializes a {@link Drain}, for a graceful shutdown.
 */
final class HeaderReadDeadline
    extends AbstractGraphStageWithMaterializedValue<BidiShape<HttpRequest, HttpRequest, HttpResponse, HttpResponse>, HeaderReadDeadline.Drain> {
  /** Asks the connection to close as soon as it has nothing in hand: at once when idle, else after its response. */
  interface Drain {
    void closeWhenIdle();
  }

  private static final String DEADLINE = "header-read-deadline";

  private final Inlet<HttpRequest> fromClient = Inlet.create("HeaderReadDeadline.fromClient");
  private final Outlet<HttpRequest> toHandler = Outlet.create("HeaderReadDeadline.toHandler");
  private final Inlet<HttpResponse> fromHandler = Inlet.create("HeaderReadDeadline.fromHandler");
  private final Outlet<HttpResponse> toClient = Outlet.create("HeaderReadDeadline.toClient");
  private final BidiShape<HttpRequest, HttpRequest, HttpResponse, HttpResponse> shape = BidiShape.of(fromClient, toHandler, fromHandler, toClient);

  private final Duration deadline;
  private final Runnable onTimeout;
  private final Runnable close;

  /**
   * @param onTimeout runs when the deadline has passed, before the connection is closed
   * @param close closes the connection itself, below TLS: completing the HTTP streams does not close a
   *     TLS connection whose handshake never began
   */
  HeaderReadDeadline(Duration deadline, Runnable onTimeout, Runnable close) {
    this.deadline = deadline;
    this.onTimeout = onTimeout;
    this.close = close;
  }

  @Override
  public BidiShape<HttpRequest, HttpRequest, HttpResponse, HttpResponse> shape() {
    return shape;
  }

  @Override
  public Pair<GraphStageLogic, Drain> createLogicAndMaterializedValuePair(Attributes attributes) {
    Logic logic = new Logic();
    return Pair.create(logic, () -> logic.drain.invoke(Done.getInstance()));
  }

  private final class Logic extends TimerGraphStageLogic {
    /** Requests without their response, and responses whose body is still being sent: the deadline runs at 0. */
    private int busy;
    private boolean draining;

    private final AsyncCallback<Done> bodySent = createAsyncCallback(done -> answered());
    private final AsyncCallback<Done> drain =
        createAsyncCallback(
            done -> {
              draining = true;
              if (busy == 0) closeConnection();
            });

    Logic() {
      super(shape);
      setHandler(
          fromClient,
          new AbstractInHandler() {
            @Override
            public void onPush() {
              busy++;
              cancelTimer(DEADLINE);
              push(toHandler, grab(fromClient));
            }

            @Override
            public void onUpstreamFinish() {
              complete(toHandler);
            }
          });
      setHandler(
          toHandler,
          new AbstractOutHandler() {
            @Override
            public void onPull() {
              pull(fromClient);
            }

            @Override
            public void onDownstreamFinish(Throwable cause) {
              cancel(fromClient, cause);
            }
          });
      setHandler(
          fromHandler,
          new AbstractInHandler() {
            @Override
            public void onPush() {
              HttpResponse response = grab(fromHandler);
              if (response.entity().isStrict()) {
                push(toClient, response);
                answered();
              } else {
                push(toClient, response.withEntity(watched(response.entity())));
              }
            }

            @Override
            public void onUpstreamFinish() {
              complete(toClient);
            }
          });
      setHandler(
          toClient,
          new AbstractOutHandler() {
            @Override
            public void onPull() {
              pull(fromHandler);
            }

            @Override
            public void onDownstreamFinish(Throwable cause) {
              cancel(fromHandler, cause);
            }
          });
    }

    @Override
    public void preStart() {
      scheduleOnce(DEADLINE, deadline);
    }

    /** A request is answered (a streamed body: once it is sent); with nothing else in hand the deadline starts. */
    private void answered() {
      if (--busy > 0) return;
      if (draining) closeConnection();
      else scheduleOnce(DEADLINE, deadline);
    }

    /** The same body, telling this stage when it has been sent. */
    private ResponseEntity watched(ResponseEntity entity) {
      Source<ByteString, Object> data =
          entity
              .getDataBytes()
              .watchTermination(
                  (materialized, sent) -> {
                    sent.whenComplete((done, failure) -> bodySent.invoke(Done.getInstance()));
                    return materialized;
                  });
      OptionalLong length = entity.getContentLengthOption();
      return length.isPresent()
          ? HttpEntities.create(entity.getContentType(), length.getAsLong(), data)
          : HttpEntities.createChunked(entity.getContentType(), data);
    }

    @Override
    public void onTimer(Object key) {
      onTimeout.run();
      closeConnection();
    }

    /** The HTTP layer first (a header half read is then dropped, not parsed as a malformed request), then the bytes. */
    private void closeConnection() {
      completeStage();
      close.run();
    }
  }
}
