package io.sn11.coordinator.http;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 over a plain socket from a chosen loopback address, for what java.net.http will not do: send
 * malformed requests, hold a connection open without a request, or send a request's header slowly.
 */
final class RawConnection implements AutoCloseable {
  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  private RawConnection(Socket socket) throws IOException {
    this.socket = socket;
    this.in = socket.getInputStream();
    this.out = socket.getOutputStream();
  }

  /** Connects to the API at {@code base} from {@code from} (127.0.0.1, 127.0.0.2, ...: all loopback on Linux). */
  static RawConnection open(URI base, String from) throws IOException {
    Socket socket = new Socket();
    socket.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
    socket.connect(new InetSocketAddress(base.getHost(), base.getPort()), 10_000);
    return new RawConnection(socket);
  }

  /** The status, the headers (names in lower case) and the body of one response. */
  record Response(int status, Map<String, String> headers, String body) {
    JsonNode json() throws IOException {
      return ApiNode.JSON.readTree(body);
    }
  }

  RawConnection send(String text) throws IOException {
    out.write(text.getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
    return this;
  }

  /** Ends what this side sends (a half-close), as a client that gave up mid-request. */
  RawConnection shutdownOutput() throws IOException {
    socket.shutdownOutput();
    return this;
  }

  /** Sends a complete request for {@code path} (keep-alive) and reads its response. */
  Response get(String path) throws IOException {
    return send("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n").response();
  }

  /** Reads one response (its body by Content-Length, as the server sends them), waiting at most 30 s. */
  Response response() throws IOException {
    socket.setSoTimeout(30_000);
    String statusLine = line();
    if (statusLine == null) throw new NoResponse();
    Map<String, String> headers = new LinkedHashMap<>();
    for (String header = line(); header != null && !header.isEmpty(); header = line()) {
      int colon = header.indexOf(':');
      headers.put(header.substring(0, colon).trim().toLowerCase(Locale.ROOT), header.substring(colon + 1).trim());
    }
    byte[] body = in.readNBytes(Integer.parseInt(headers.getOrDefault("content-length", "0")));
    return new Response(Integer.parseInt(statusLine.split(" ")[1]), headers, new String(body, StandardCharsets.UTF_8));
  }

  /** One response, or null when the server closes (or resets) the connection without one. */
  Response responseIfAny() throws IOException {
    try {
      return response();
    } catch (SocketException reset) {
      return null;
    } catch (NoResponse closed) {
      return null;
    }
  }

  /** The server closed the connection before a response began. */
  static final class NoResponse extends IOException {
    NoResponse() {
      super("the server closed the connection without a response");
    }
  }

  /**
   * Whether the server closes the connection within {@code limit}, reading (and dropping) whatever it sends
   * first; false when the connection is still open after it.
   */
  boolean closedByServerWithin(Duration limit) throws IOException {
    long deadline = System.nanoTime() + limit.toNanos();
    try {
      while (true) {
        long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
        socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, left));
        if (in.read() < 0) return true;
      }
    } catch (SocketTimeoutException stillOpen) {
      return false;
    } catch (SocketException reset) {
      return true;
    }
  }

  private String line() throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    for (int b = in.read(); b >= 0; b = in.read()) {
      if (b == '\n') return line.toString(StandardCharsets.ISO_8859_1).stripTrailing();
      line.write(b);
    }
    return line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
