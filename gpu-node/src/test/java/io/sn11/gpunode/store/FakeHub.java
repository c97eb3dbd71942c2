package io.sn11.gpunode.store;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A local stand-in for the Hugging Face Hub serving its URL layout (revision API, recursive tree,
 * resolve with Range and CDN redirects) from in-memory files, with faults to inject and a log of
 * every request.
 */
public final class FakeHub implements AutoCloseable {

    record Request(String method, String host, String rawPath, String query, String authorization, String range,
                   java.util.concurrent.atomic.AtomicInteger statusHolder) {
        int status() {
            return statusHolder.get();
        }

        boolean isDownload() {
            return rawPath.contains("/resolve/") || rawPath.startsWith("/cdn/");
        }
    }

    public static final class Repo {
        final String commit;
        final Map<String, byte[]> files = new LinkedHashMap<>();
        final java.util.Set<String> lfs = new java.util.HashSet<>();
        final java.util.Set<String> refs = new java.util.HashSet<>();

        Repo(String commit) {
            this.commit = commit;
        }

        public Repo file(String path, byte[] content) {
            files.put(path, content);
            return this;
        }

        Repo file(String path, String content) {
            return file(path, content.getBytes(StandardCharsets.UTF_8));
        }

        public Repo lfsFile(String path, byte[] content) {
            lfs.add(path);
            return file(path, content);
        }

        Repo ref(String revision) {
            refs.add(revision);
            return this;
        }
    }

    private record Fault(String pathContains, int[] remaining, int status, Map<String, String> headers) {
    }

    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final ObjectMapper json = new ObjectMapper();
    private final Map<String, Repo> repos = new ConcurrentHashMap<>();
    private final List<Fault> faults = new CopyOnWriteArrayList<>();
    final List<Request> requests = new CopyOnWriteArrayList<>();
    final Map<String, byte[]> servedInstead = new ConcurrentHashMap<>();
    volatile boolean honourRange = true;
    volatile boolean redirectLfsToCdn = false;
    /** Page size of the tree listing (Link rel=next paging); 0 = one page. */
    volatile int treePageSize = 0;
    private final Map<String, long[]> stalls = new ConcurrentHashMap<>();

    public FakeHub() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(executor);
        server.start();
    }

    /** The endpoint, on 127.0.0.1. The CDN redirect goes to "localhost" (another origin). */
    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    public Repo repo(String namespace, String name, String commit) {
        Repo r = new Repo(commit).ref("main");
        repos.put(namespace + "/" + name, r);
        return r;
    }

    /** The next {@code times} requests whose path contains the text are answered with the status. */
    void fail(String pathContains, int times, int status, Map<String, String> headers) {
        faults.add(new Fault(pathContains, new int[]{times}, status, headers));
    }

    /** The next download of the file sends {@code afterBytes} bytes, then stalls for {@code millis}. */
    void stallOnce(String fileName, long afterBytes, long millis) {
        stalls.put(fileName, new long[]{afterBytes, millis});
    }

    List<Request> downloads() {
        return requests.stream().filter(Request::isDownload).toList();
    }

    public long count(String pathContains) {
        return requests.stream().filter(r -> r.rawPath().contains(pathContains)).count();
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String gitOid(byte[] b) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-1");
            md.update(("blob " + b.length + "\0").getBytes(StandardCharsets.US_ASCII));
            return HexFormat.of().formatHex(md.digest(b));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private void handle(HttpExchange ex) throws IOException {
        String raw = ex.getRequestURI().getRawPath();
        String query = ex.getRequestURI().getRawQuery();
        var status = new java.util.concurrent.atomic.AtomicInteger();
        ex.setAttribute("status", status);
        requests.add(new Request(ex.getRequestMethod(), ex.getRequestHeaders().getFirst("Host"), raw, query,
                ex.getRequestHeaders().getFirst("Authorization"), ex.getRequestHeaders().getFirst("Range"), status));
        try {
            route(ex, raw, query);
        } catch (RuntimeException e) {
            send(ex, 500, "text/plain", e.toString().getBytes(StandardCharsets.UTF_8), Map.of());
        }
        ex.close();
    }

    private int route(HttpExchange ex, String raw, String query) throws IOException {
        for (Fault f : faults) {
            if (raw.contains(f.pathContains())) {
                synchronized (f) {
                    if (f.remaining()[0] > 0) {
                        f.remaining()[0]--;
                        send(ex, f.status(), "text/plain", "injected".getBytes(StandardCharsets.UTF_8), f.headers());
                        return f.status();
                    }
                }
            }
        }
        String[] parts = raw.split("/");
        if (raw.startsWith("/api/models/") && parts.length == 7) {
            Repo repo = repos.get(parts[3] + "/" + parts[4]);
            String rev = URLDecoder.decode(parts[6], StandardCharsets.UTF_8);
            if (repo == null || !(repo.refs.contains(rev) || repo.commit.equals(rev))) {
                return notFound(ex, repo == null ? "RepoNotFound" : "RevisionNotFound");
            }
            if (parts[5].equals("revision")) {
                ObjectNode info = json.createObjectNode();
                info.put("id", parts[3] + "/" + parts[4]);
                info.put("sha", repo.commit);
                ArrayNode siblings = info.putArray("siblings");
                repo.files.keySet().forEach(p -> siblings.addObject().put("rfilename", p));
                return sendJson(ex, info, Map.of());
            }
            if (parts[5].equals("tree") && query != null && query.contains("recursive=true")) {
                List<ObjectNode> entries = new ArrayList<>();
                java.util.TreeSet<String> dirs = new java.util.TreeSet<>();
                repo.files.forEach((path, content) -> {
                    int slash = path.lastIndexOf('/');
                    if (slash > 0) {
                        dirs.add(path.substring(0, slash));
                    }
                    ObjectNode e = json.createObjectNode();
                    e.put("type", "file");
                    e.put("size", content.length);
                    e.put("path", path);
                    if (repo.lfs.contains(path)) {
                        e.put("oid", "0123456789012345678901234567890123456789"); // pointer blob id, not the content's
                        ObjectNode l = e.putObject("lfs");
                        l.put("oid", sha256(content));
                        l.put("size", content.length);
                        l.put("pointerSize", 134);
                    } else {
                        e.put("oid", gitOid(content));
                    }
                    entries.add(e);
                });
                for (String d : dirs) {
                    ObjectNode e = json.createObjectNode();
                    e.put("type", "directory");
                    e.put("size", 0);
                    e.put("path", d);
                    entries.add(0, e);
                }
                int from = 0;
                if (query.contains("cursor=")) {
                    from = Integer.parseInt(query.substring(query.indexOf("cursor=") + 7));
                }
                int to = treePageSize > 0 ? Math.min(entries.size(), from + treePageSize) : entries.size();
                ArrayNode page = json.createArrayNode();
                entries.subList(from, to).forEach(page::add);
                Map<String, String> headers = to < entries.size()
                        ? Map.of("Link", "<" + raw + "?recursive=true&cursor=" + to + ">; rel=\"next\"") : Map.of();
                return sendJson(ex, page, headers);
            }
        }
        if (raw.startsWith("/cdn/") && parts.length == 3) {
            for (Repo repo : repos.values()) {
                for (var e : repo.files.entrySet()) {
                    if (sha256(e.getValue()).equals(parts[2])) {
                        return sendFile(ex, e.getKey(), e.getValue());
                    }
                }
            }
            return notFound(ex, "EntryNotFound");
        }
        if (parts.length >= 6 && parts[3].equals("resolve")) {
            Repo repo = repos.get(parts[1] + "/" + parts[2]);
            String rev = URLDecoder.decode(parts[4], StandardCharsets.UTF_8);
            if (repo == null || !(repo.refs.contains(rev) || repo.commit.equals(rev))) {
                return notFound(ex, repo == null ? "RepoNotFound" : "RevisionNotFound");
            }
            StringBuilder path = new StringBuilder();
            for (int i = 5; i < parts.length; i++) {
                path.append(i > 5 ? "/" : "").append(URLDecoder.decode(parts[i], StandardCharsets.UTF_8));
            }
            byte[] content = repo.files.get(path.toString());
            if (content == null) {
                return notFound(ex, "EntryNotFound");
            }
            if (redirectLfsToCdn && repo.lfs.contains(path.toString())) {
                String location = "http://localhost:" + server.getAddress().getPort() + "/cdn/" + sha256(content);
                send(ex, 302, "text/plain", new byte[0], Map.of("Location", location));
                return 302;
            }
            return sendFile(ex, path.toString(), content);
        }
        return notFound(ex, "EntryNotFound");
    }

    private int sendFile(HttpExchange ex, String path, byte[] listed) throws IOException {
        byte[] content = servedInstead.getOrDefault(path, listed);
        String range = ex.getRequestHeaders().getFirst("Range");
        long[] stall = stalls.remove(path);
        if (range != null && honourRange && range.startsWith("bytes=") && range.endsWith("-")) {
            int start = Integer.parseInt(range.substring(6, range.length() - 1));
            if (start >= content.length) {
                send(ex, 416, "text/plain", new byte[0], Map.of("Content-Range", "bytes */" + content.length));
                return 416;
            }
            byte[] rest = Arrays.copyOfRange(content, start, content.length);
            ex.getResponseHeaders().add("Content-Range", "bytes " + start + "-" + (content.length - 1) + "/" + content.length);
            ex.getResponseHeaders().add("Content-Type", "application/octet-stream");
            setStatus(ex, 206);
            ex.sendResponseHeaders(206, rest.length);
            writeBody(ex, rest, stall);
            return 206;
        }
        ex.getResponseHeaders().add("Content-Type", "application/octet-stream");
        setStatus(ex, 200);
        ex.sendResponseHeaders(200, content.length);
        writeBody(ex, content, stall);
        return 200;
    }

    private static void writeBody(HttpExchange ex, byte[] body, long[] stall) throws IOException {
        try (OutputStream out = ex.getResponseBody()) {
            if (stall == null) {
                out.write(body);
                return;
            }
            int first = (int) Math.min(stall[0], body.length);
            out.write(body, 0, first);
            out.flush();
            try {
                Thread.sleep(stall[1]);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            out.write(body, first, body.length - first);
        } catch (IOException e) {
            // the client went away (e.g. it cut a stalled body): fine
        }
    }

    private int notFound(HttpExchange ex, String code) throws IOException {
        send(ex, 404, "application/json", "{\"error\":\"not found\"}".getBytes(StandardCharsets.UTF_8),
                Map.of("X-Error-Code", code));
        return 404;
    }

    private int sendJson(HttpExchange ex, Object body, Map<String, String> headers) throws IOException {
        send(ex, 200, "application/json", json.writeValueAsBytes(body), headers);
        return 200;
    }

    private static void send(HttpExchange ex, int status, String type, byte[] body, Map<String, String> headers) throws IOException {
        ex.getResponseHeaders().add("Content-Type", type);
        headers.forEach((k, v) -> ex.getResponseHeaders().add(k, v));
        setStatus(ex, status);
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    private static void setStatus(HttpExchange ex, int status) {
        ((java.util.concurrent.atomic.AtomicInteger) ex.getAttribute("status")).set(status);
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
