package io.sn11.gpunode.judge;

import io.sn11.cluster.domain.JudgeIdentity;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sn11.engine.tokenizer.Message;
import io.sn11.gpunode.judge.Judgement.FailureKind;
import io.sn11.gpunode.judge.JudgeSettings.Provider;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.stream.Collectors;

/**
 * A judge behind OpenAI-compatible chat-completions APIs ({@code POST {base-url}/chat/completions}). Providers are
 * asked in order: one that cannot give a verdict after its retries hands the comparison to the next. Each request
 * asks for structured output (a strict JSON schema of the verdict, temperature 0) and the answer is validated by
 * {@link JudgePrompt#parseVerdict}. Timeouts, connection errors, 408, 429, 5xx and invalid verdicts are retried with
 * exponential backoff; a Retry-After header sets the wait instead. Other statuses (400, 401, 403, 404) go straight
 * to the next provider. A semaphore bounds the comparisons in flight across every caller of this instance.
 */
public final class ChatCompletionsJudge implements Judge {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int ERROR_BODY_CHARS = 200;

    /** A provider with its key resolved. */
    private record Endpoint(Provider provider, URI url, String apiKey) {}

    /** One request's outcome: a final judgement, or a failure that may be retried after {@code retryAfter}. */
    private record Attempt(Judgement judgement, boolean retryable, Duration retryAfter) {
        static Attempt done(Judgement j) { return new Attempt(j, false, null); }
        static Attempt retry(FailureKind kind, String reason, Duration retryAfter) {
            return new Attempt(new Judgement.Failed(kind, reason), true, retryAfter);
        }
        static Attempt giveUp(String reason) {
            return new Attempt(new Judgement.Failed(FailureKind.JUDGE_UNAVAILABLE, reason), false, null);
        }
    }

    private final List<Endpoint> endpoints = new ArrayList<>();
    private final JudgeSettings settings;
    private final Semaphore inFlight;
    private final HttpClient http;
    private final String name;

    /** @param env where the providers' {@code api-key-env} variables are looked up */
    public ChatCompletionsJudge(JudgeSettings settings, Map<String, String> env) {
        if (settings.providers().isEmpty()) throw new IllegalArgumentException("no judge providers configured");
        this.settings = settings;
        for (Provider p : settings.providers()) {
            String key = p.apiKey(env);
            String base = p.baseUrl().toString().replaceAll("/+$", "");
            endpoints.add(new Endpoint(p, URI.create(base + "/chat/completions"), key));
        }
        this.inFlight = new Semaphore(settings.concurrency());
        this.http = HttpClient.newBuilder().connectTimeout(settings.timeout()).version(HttpClient.Version.HTTP_1_1).build();
        this.name = "chat-completions[" + settings.providers().stream().map(p -> p.name() + ":" + p.model())
                .collect(Collectors.joining(", ")) + "]";
    }

    @Override public String name() { return name; }

    @Override public JudgeIdentity identity() {
        return new JudgeIdentity("api", settings.providers().stream().map(p -> p.name() + ":" + p.model())
                .collect(Collectors.joining(", ")), null, null);
    }

    @Override public int maxConcurrency() { return settings.concurrency(); }

    @Override
    public Judgement judge(Comparison comparison) {
        List<Message> messages = JudgePrompt.render(comparison);
        try {
            inFlight.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Judgement.Failed(FailureKind.JUDGE_UNAVAILABLE, "interrupted before asking the judge");
        }
        try {
            List<String> failures = new ArrayList<>();
            boolean answered = false;
            for (Endpoint e : endpoints) {
                Judgement j = askWithRetries(e, messages);
                if (!(j instanceof Judgement.Failed f) || f.kind() == FailureKind.REPLY_UNUSABLE) return j;
                answered |= f.kind() == FailureKind.JUDGE_INVALID_ANSWER;
                failures.add(e.provider().name() + ": " + f.reason());
            }
            // a judge that answered, even badly, was reachable
            return new Judgement.Failed(answered ? FailureKind.JUDGE_INVALID_ANSWER : FailureKind.JUDGE_UNAVAILABLE,
                    String.join("; ", failures));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Judgement.Failed(FailureKind.JUDGE_UNAVAILABLE, "interrupted while asking the judge");
        } finally {
            inFlight.release();
        }
    }

    private Judgement askWithRetries(Endpoint e, List<Message> messages) throws InterruptedException {
        byte[] body = requestBody(e.provider().model(), messages);
        for (int attempt = 0; ; attempt++) {
            Attempt a = ask(e, body);
            if (!a.retryable() || attempt == settings.retries()) return a.judgement();
            Duration wait = a.retryAfter() != null ? a.retryAfter() : backoff(attempt);
            if (wait.compareTo(settings.maxBackoff()) > 0) {
                return new Judgement.Failed(((Judgement.Failed) a.judgement()).kind(),
                        ((Judgement.Failed) a.judgement()).reason() + "; Retry-After " + wait.toSeconds()
                                + " s is longer than max-backoff");
            }
            Thread.sleep(wait.toMillis());
        }
    }

    /** initial-backoff x 2^attempt, at most max-backoff. */
    private Duration backoff(int attempt) {
        Duration d = settings.initialBackoff().multipliedBy(1L << Math.min(attempt, 30));
        return d.compareTo(settings.maxBackoff()) > 0 || d.isNegative() ? settings.maxBackoff() : d;
    }

    private Attempt ask(Endpoint e, byte[] body) throws InterruptedException {
        HttpRequest.Builder req = HttpRequest.newBuilder(e.url())
                .timeout(settings.timeout())
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (e.apiKey() != null) req.header("Authorization", "Bearer " + e.apiKey());
        HttpResponse<String> r;
        try {
            r = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
        } catch (HttpTimeoutException ex) {
            return Attempt.retry(FailureKind.JUDGE_UNAVAILABLE, "no answer within " + settings.timeout().toMillis() + " ms", null);
        } catch (IOException ex) {
            return Attempt.retry(FailureKind.JUDGE_UNAVAILABLE, "request failed: " + ex, null);
        }
        int status = r.statusCode();
        if (status == 429 || status == 408 || status >= 500) {
            Duration retryAfter = r.headers().firstValue("Retry-After").map(v -> retryAfter(v, Instant.now())).orElse(null);
            return Attempt.retry(FailureKind.JUDGE_UNAVAILABLE, "HTTP " + status + ": " + snippet(r.body()), retryAfter);
        }
        if (status != 200) return Attempt.giveUp("HTTP " + status + ": " + snippet(r.body()));
        return answer(e, r.body());
    }

    /** Reads a 200 answer: a refusal or a content filter blames the reply; anything but a valid verdict is retried. */
    private Attempt answer(Endpoint e, String body) {
        JsonNode choice;
        try {
            choice = JSON.readTree(body).path("choices").path(0);
        } catch (JsonProcessingException ex) {
            return Attempt.retry(FailureKind.JUDGE_INVALID_ANSWER, "response is not JSON: " + ex.getOriginalMessage(), null);
        }
        JsonNode message = choice.path("message");
        String refusal = message.path("refusal").asText("");
        if (!refusal.isBlank()) {
            return Attempt.done(new Judgement.Failed(FailureKind.REPLY_UNUSABLE, "the judge refused: " + snippet(refusal)));
        }
        if ("content_filter".equals(choice.path("finish_reason").asText())) {
            return Attempt.done(new Judgement.Failed(FailureKind.REPLY_UNUSABLE, "the judge's content filter stopped the verdict"));
        }
        JsonNode content = message.path("content");
        if (!content.isTextual()) {
            return Attempt.retry(FailureKind.JUDGE_INVALID_ANSWER, "response without choices[0].message.content", null);
        }
        try {
            return Attempt.done(new Judgement.Valid(JudgePrompt.parseVerdict(content.asText()),
                    e.provider().name() + ":" + e.provider().model()));
        } catch (JudgePrompt.InvalidVerdictException ex) {
            return Attempt.retry(FailureKind.JUDGE_INVALID_ANSWER, "invalid verdict: " + ex.getMessage(), null);
        }
    }

    static byte[] requestBody(String model, List<Message> messages) {
        ObjectNode root = JSON.createObjectNode();
        root.put("model", model);
        ArrayNode m = root.putArray("messages");
        for (Message msg : messages) m.addObject().put("role", msg.role()).put("content", msg.content());
        root.put("temperature", 0);
        ObjectNode format = root.putObject("response_format");
        format.put("type", "json_schema");
        ObjectNode schema = format.putObject("json_schema");
        schema.put("name", "sn11_verdict");
        schema.put("strict", true);
        schema.set("schema", JudgePrompt.providerSchema());
        try {
            return JSON.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A Retry-After value: delay seconds or an HTTP date; null when unreadable. A date in the past means now. */
    static Duration retryAfter(String value, Instant now) {
        String v = value.strip();
        try {
            return Duration.ofSeconds(Math.max(0, Long.parseLong(v)));
        } catch (NumberFormatException notSeconds) {
            try {
                Duration d = Duration.between(now, ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant());
                return d.isNegative() ? Duration.ZERO : d;
            } catch (DateTimeParseException notDate) {
                return null;
            }
        }
    }

    private static String snippet(String s) {
        String oneLine = s.replaceAll("\\s+", " ").strip();
        return oneLine.length() <= ERROR_BODY_CHARS ? oneLine : oneLine.substring(0, ERROR_BODY_CHARS) + "...";
    }
}
