package io.sn11.gpunode.judge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * A local server speaking the chat-completions protocol on {@code /v1/chat/completions}. The answer to the n-th
 * request (from 0) comes from a script; every request is recorded with its arrival time.
 */
final class FakeChatCompletions implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();

    record Request(long arrivalNanos, String authorization, JsonNode body) {}

    /** One scripted answer. {@code stall} keeps the connection open without answering, until the server closes. */
    record Answer(int status, String body, Map<String, String> headers, boolean stalls) {
        static Answer verdictContent(String content) {
            ObjectNode root = JSON.createObjectNode();
            root.put("id", "chatcmpl-1");
            root.put("model", "fake-judge");
            ObjectNode choice = root.putArray("choices").addObject();
            choice.put("index", 0);
            choice.put("finish_reason", "stop");
            choice.putObject("message").put("role", "assistant").put("content", content);
            return new Answer(200, root.toString(), Map.of(), false);
        }

        static Answer verdict(String realism, String entertainment, String coherency) {
            return verdictContent(String.format("{\"realism_reasoning\":\"r\",\"realism_win\":\"%s\","
                    + "\"entertainment_reasoning\":\"e\",\"entertainment_win\":\"%s\","
                    + "\"coherency_reasoning\":\"c\",\"coherency_win\":\"%s\"}", realism, entertainment, coherency));
        }

        static Answer status(int status, Map<String, String> headers) {
            return new Answer(status, "{\"error\":{\"message\":\"scripted " + status + "\"}}", headers, false);
        }

        static Answer stalling() { return new Answer(0, "", Map.of(), true); }
    }

    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final CountDownLatch closing = new CountDownLatch(1);
    private final AtomicInteger count = new AtomicInteger();
    private final AtomicInteger inFlight = new AtomicInteger();
    final AtomicInteger maxInFlight = new AtomicInteger();
    final List<Request> requests = new CopyOnWriteArrayList<>();
    private final IntFunction<Answer> script;

    FakeChatCompletions(IntFunction<Answer> script) throws IOException {
        this.script = script;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/v1/chat/completions", this::handle);
        server.setExecutor(executor);
        server.start();
    }

    URI baseUrl() { return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/v1"); }

    private void handle(HttpExchange ex) throws IOException {
        long arrival = System.nanoTime();
        int now = inFlight.incrementAndGet();
        maxInFlight.accumulateAndGet(now, Math::max);
        try {
            JsonNode body = JSON.readTree(ex.getRequestBody().readAllBytes());
            requests.add(new Request(arrival, ex.getRequestHeaders().getFirst("Authorization"), body));
            Answer a = script.apply(count.getAndIncrement());
            if (a.stalls()) {
                closing.await(30, TimeUnit.SECONDS);
                return;
            }
            byte[] bytes = a.body().getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            a.headers().forEach((k, v) -> ex.getResponseHeaders().add(k, v));
            ex.sendResponseHeaders(a.status(), bytes.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            // the client went away (a timeout): fine
        } finally {
            inFlight.decrementAndGet();
            ex.close();
        }
    }

    @Override
    public void close() {
        closing.countDown();
        server.stop(0);
        executor.shutdownNow();
    }
}
