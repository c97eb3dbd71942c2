package io.sn11.gpunode.judge;

import com.fasterxml.jackson.databind.JsonNode;
import io.sn11.cluster.scoring.JudgeTally.Side;
import io.sn11.engine.GenerationOptions;
import io.sn11.engine.tokenizer.Message;
import io.sn11.gpunode.judge.FakeChatCompletions.Answer;
import io.sn11.gpunode.judge.Judgement.FailureKind;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;

import static org.junit.jupiter.api.Assertions.*;

class ChatCompletionsJudgeTest {
    static final Comparison COMPARISON = new Comparison("s1", "You are Mira, a weary innkeeper.",
            List.of(Message.user("What brings you here?")), "The storm, traveller.", "Gold, and the storm.");
    static final Map<String, String> ENV = Map.of("JUDGE_KEY", "sk-test-123");

    final List<FakeChatCompletions> servers = new ArrayList<>();

    @AfterEach
    void closeServers() {
        servers.forEach(FakeChatCompletions::close);
    }

    FakeChatCompletions server(IntFunction<Answer> script) throws IOException {
        FakeChatCompletions s = new FakeChatCompletions(script);
        servers.add(s);
        return s;
    }

    static JudgeSettings.Provider provider(String name, URI baseUrl) {
        return new JudgeSettings.Provider(name, baseUrl, "model-" + name, "JUDGE_KEY");
    }

    static JudgeSettings settings(int retries, Duration timeout, Duration maxBackoff, int concurrency,
                                  JudgeSettings.Provider... providers) {
        return new JudgeSettings(JudgeSettings.Kind.API, concurrency, timeout, retries, Duration.ofMillis(10),
                maxBackoff, List.of(providers), GenerationOptions.defaults(), JudgeSettingsTest.NO_MODEL);
    }

    static Judgement judgeOnce(FakeChatCompletions s, int retries) {
        return new ChatCompletionsJudge(settings(retries, Duration.ofSeconds(5), Duration.ofSeconds(5), 2,
                provider("main", s.baseUrl())), ENV).judge(COMPARISON);
    }

    static URI closedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return URI.create("http://127.0.0.1:" + socket.getLocalPort() + "/v1");
        }
    }

    @Test
    void validVerdictFromAStructuredOutputRequest() throws IOException {
        FakeChatCompletions s = server(n -> Answer.verdict("generated", "original", "tie"));
        Judgement j = judgeOnce(s, 2);
        Judgement.Valid v = assertInstanceOf(Judgement.Valid.class, j);
        assertEquals(new JudgeVerdict(Side.GENERATED, Side.ORIGINAL, Side.TIE, "r", "e", "c"), v.verdict());
        assertEquals("main:model-main", v.judgedBy());

        assertEquals(1, s.requests.size());
        FakeChatCompletions.Request r = s.requests.get(0);
        assertEquals("Bearer sk-test-123", r.authorization());
        JsonNode body = r.body();
        assertEquals("model-main", body.get("model").asText());
        assertEquals(0, body.get("temperature").asInt());
        assertEquals("json_schema", body.at("/response_format/type").asText());
        assertTrue(body.at("/response_format/json_schema/strict").asBoolean());
        assertEquals(6, body.at("/response_format/json_schema/schema/required").size());
        assertEquals("system", body.at("/messages/0/role").asText());
        assertEquals(JudgePrompt.render(COMPARISON).get(1).content(), body.at("/messages/1/content").asText());
    }

    @Test
    void malformedJsonIsRetriedThenAnInvalidAnswer() throws IOException {
        FakeChatCompletions s = server(n -> Answer.verdictContent("{\"realism_win\": \"generated\", oops"));
        Judgement.Failed f = assertInstanceOf(Judgement.Failed.class, judgeOnce(s, 2));
        assertEquals(FailureKind.JUDGE_INVALID_ANSWER, f.kind());
        assertTrue(f.reason().contains("not JSON"), f.reason());
        assertEquals(3, s.requests.size(), "the first attempt and two retries");
    }

    @Test
    void missingFieldsAreAnInvalidAnswerAndARetryCanRecover() throws IOException {
        String withoutCoherency = "{\"realism_reasoning\":\"r\",\"realism_win\":\"tie\","
                + "\"entertainment_reasoning\":\"e\",\"entertainment_win\":\"tie\",\"coherency_reasoning\":\"c\"}";
        FakeChatCompletions missing = server(n -> Answer.verdictContent(withoutCoherency));
        Judgement.Failed f = assertInstanceOf(Judgement.Failed.class, judgeOnce(missing, 0));
        assertEquals(FailureKind.JUDGE_INVALID_ANSWER, f.kind());
        assertTrue(f.reason().contains("missing coherency_win"), f.reason());

        FakeChatCompletions thenValid = server(n -> n == 0 ? Answer.verdictContent(withoutCoherency)
                : Answer.verdict("tie", "tie", "generated"));
        assertInstanceOf(Judgement.Valid.class, judgeOnce(thenValid, 1));
        assertEquals(2, thenValid.requests.size());
    }

    @Test
    void unknownWinnerAndMissingChoicesAreInvalidAnswers() throws IOException {
        FakeChatCompletions s = server(n -> n == 0 ? Answer.verdict("both", "tie", "tie")
                : new Answer(200, "{\"choices\":[]}", Map.of(), false));
        Judgement.Failed f = assertInstanceOf(Judgement.Failed.class, judgeOnce(s, 1));
        assertEquals(FailureKind.JUDGE_INVALID_ANSWER, f.kind());
        assertTrue(f.reason().contains("without choices[0].message.content"), f.reason());
    }

    @Test
    void timeoutsAreRetriedThenTheJudgeIsUnavailable() throws IOException {
        FakeChatCompletions s = server(n -> Answer.stalling());
        JudgeSettings fast = settings(1, Duration.ofMillis(300), Duration.ofSeconds(1), 1, provider("slow", s.baseUrl()));
        Judgement.Failed f = assertInstanceOf(Judgement.Failed.class, new ChatCompletionsJudge(fast, ENV).judge(COMPARISON));
        assertEquals(FailureKind.JUDGE_UNAVAILABLE, f.kind());
        assertTrue(f.reason().contains("no answer within 300 ms"), f.reason());
        assertEquals(2, s.requests.size());
    }

    @Test
    void tooManyRequestsWaitsAtLeastRetryAfter() throws IOException {
        FakeChatCompletions s = server(n -> n == 0 ? Answer.status(429, Map.of("Retry-After", "1"))
                : Answer.verdict("original", "original", "original"));
        assertInstanceOf(Judgement.Valid.class, judgeOnce(s, 2));
        assertEquals(2, s.requests.size());
        long waited = s.requests.get(1).arrivalNanos() - s.requests.get(0).arrivalNanos();
        assertTrue(waited >= Duration.ofSeconds(1).toNanos(), "waited " + waited / 1e6 + " ms");
    }

    @Test
    void retryAfterLongerThanMaxBackoffGivesUpOnTheProviderAndExhausted429IsUnavailable() throws IOException {
        FakeChatCompletions busy = server(n -> Answer.status(429, Map.of("Retry-After", "3600")));
        Judgement.Failed f = assertInstanceOf(Judgement.Failed.class, judgeOnce(busy, 3));
        assertEquals(FailureKind.JUDGE_UNAVAILABLE, f.kind());
        assertEquals(1, busy.requests.size());

        FakeChatCompletions alwaysBusy = server(n -> Answer.status(503, Map.of()));
        Judgement.Failed exhausted = assertInstanceOf(Judgement.Failed.class, judgeOnce(alwaysBusy, 2));
        assertEquals(FailureKind.JUDGE_UNAVAILABLE, exhausted.kind());
        assertTrue(exhausted.reason().contains("HTTP 503"), exhausted.reason());
        assertEquals(3, alwaysBusy.requests.size());
    }

    @Test
    void aProviderDownHandsTheComparisonToTheNextOne() throws IOException {
        FakeChatCompletions up = server(n -> Answer.verdict("generated", "generated", "generated"));
        FakeChatCompletions unauthorised = server(n -> Answer.status(401, Map.of()));
        JudgeSettings s = settings(2, Duration.ofSeconds(2), Duration.ofSeconds(1), 2,
                provider("down", closedPort()), provider("locked", unauthorised.baseUrl()), provider("up", up.baseUrl()));
        ChatCompletionsJudge judge = new ChatCompletionsJudge(s, ENV);
        Judgement.Valid v = assertInstanceOf(Judgement.Valid.class, judge.judge(COMPARISON));
        assertEquals("up:model-up", v.judgedBy());
        assertEquals(1, unauthorised.requests.size(), "401 is not retried");
        assertEquals("chat-completions[down:model-down, locked:model-locked, up:model-up]", judge.name());

        JudgeSettings allDown = settings(1, Duration.ofSeconds(2), Duration.ofSeconds(1), 1,
                provider("a", closedPort()), provider("b", closedPort()));
        Judgement.Failed f = assertInstanceOf(Judgement.Failed.class, new ChatCompletionsJudge(allDown, ENV).judge(COMPARISON));
        assertEquals(FailureKind.JUDGE_UNAVAILABLE, f.kind());
        assertTrue(f.reason().startsWith("a: request failed") && f.reason().contains("; b: request failed"), f.reason());
    }

    @Test
    void aRefusalBlamesTheReply() throws IOException {
        FakeChatCompletions s = server(n -> new Answer(200, "{\"choices\":[{\"message\":{\"role\":\"assistant\","
                + "\"content\":null,\"refusal\":\"I can't help with that.\"},\"finish_reason\":\"stop\"}]}", Map.of(), false));
        Judgement.Failed f = assertInstanceOf(Judgement.Failed.class, judgeOnce(s, 2));
        assertEquals(FailureKind.REPLY_UNUSABLE, f.kind());
        assertEquals(1, s.requests.size());
    }

    @Test
    void concurrencyIsLimited() throws Exception {
        FakeChatCompletions s = server(n -> {
            try {
                Thread.sleep(50); // hold each request so that unlimited callers would overlap
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Answer.verdict("tie", "tie", "tie");
        });
        ChatCompletionsJudge judge = new ChatCompletionsJudge(settings(0, Duration.ofSeconds(5), Duration.ofSeconds(1), 2,
                provider("main", s.baseUrl())), ENV);
        ExecutorService callers = Executors.newFixedThreadPool(6);
        try {
            List<Future<Judgement>> results = new ArrayList<>();
            for (int i = 0; i < 6; i++) results.add(callers.submit(() -> judge.judge(COMPARISON)));
            for (Future<Judgement> r : results) assertInstanceOf(Judgement.Valid.class, r.get());
        } finally {
            callers.shutdownNow();
        }
        assertEquals(6, s.requests.size());
        assertTrue(s.maxInFlight.get() <= 2, "at most 2 in flight, saw " + s.maxInFlight.get());
    }

    @Test
    void missingApiKeyIsAConfigurationError() {
        JudgeSettings s = settings(0, Duration.ofSeconds(1), Duration.ofSeconds(1), 1,
                provider("main", URI.create("http://127.0.0.1:1/v1")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ChatCompletionsJudge(s, Map.of()));
        assertTrue(e.getMessage().contains("JUDGE_KEY"), e.getMessage());
    }

    @Test
    void retryAfterIsSecondsOrAnHttpDate() {
        Instant now = Instant.parse("2025-01-01T00:00:00Z");
        assertEquals(Duration.ofSeconds(7), ChatCompletionsJudge.retryAfter(" 7 ", now));
        String date = DateTimeFormatter.RFC_1123_DATE_TIME.format(now.plusSeconds(90).atZone(ZoneOffset.UTC));
        assertEquals(Duration.ofSeconds(90), ChatCompletionsJudge.retryAfter(date, now));
        String past = DateTimeFormatter.RFC_1123_DATE_TIME.format(now.minusSeconds(5).atZone(ZoneOffset.UTC));
        assertEquals(Duration.ZERO, ChatCompletionsJudge.retryAfter(past, now));
        assertNull(ChatCompletionsJudge.retryAfter("soon", now));
    }
}
