package io.sn11.gpunode.judge;

import io.sn11.cluster.domain.JudgeIdentity;
import io.sn11.cluster.domain.VerdictRecord;
import io.sn11.cluster.scoring.ScoringSettings;

import com.typesafe.config.ConfigFactory;
import io.sn11.cluster.domain.FailureCategory;
import io.sn11.cluster.scoring.JudgeTally.Side;
import io.sn11.engine.GenerationOptions;
import io.sn11.engine.Transformer;
import io.sn11.engine.LoadedModel;
import io.sn11.engine.data.Conversation;
import io.sn11.engine.data.SyntheticDataset;
import io.sn11.engine.safetensors.DType;
import io.sn11.engine.tiny.TinyModels;
import io.sn11.engine.tokenizer.ChatTemplate;
import io.sn11.engine.tokenizer.Tokenizer;
import io.sn11.gpunode.judge.FakeChatCompletions.Answer;
import io.sn11.gpunode.judge.Judgement.FailureKind;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.*;

class JudgeStepTest {
    @TempDir static Path dir;
    static LoadedModel loaded;
    static Transformer model;
    static Tokenizer tok;
    static final List<Conversation> TEN = SyntheticDataset.generate(3, 10).conversations();
    static final GenerationOptions GENERATION = new GenerationOptions(6, 0, 0, 4);

    @BeforeAll
    static void load() throws IOException {
        loaded = LoadedModel.write(dir.resolve("llama"), TinyModels.Arch.LLAMA, DType.BF16, 5);
        model = loaded.model();
        tok = loaded.tokenizer();
    }

    @AfterAll
    static void close() throws IOException {
        loaded.close();
    }

    /** A judge that answers the i-th conversation (by id) with {@code script.apply(i)}. */
    static Judge scripted(Function<Integer, Judgement> script) {
        return new Judge() {
            @Override public String name() { return "scripted"; }
            @Override public io.sn11.cluster.domain.JudgeIdentity identity() { return new io.sn11.cluster.domain.JudgeIdentity("scripted", "scripted", null, null); }
            @Override public int maxConcurrency() { return 3; }
            @Override public Judgement judge(Comparison c) {
                for (int i = 0; i < TEN.size(); i++) if (TEN.get(i).id().equals(c.sampleId())) return script.apply(i);
                throw new AssertionError("unknown sample " + c.sampleId());
            }
        };
    }

    static Judgement valid(Side r, Side e, Side c) {
        return new Judgement.Valid(new JudgeVerdict(r, e, c, "r", "e", "c"), "scripted");
    }

    static Judgement failed(FailureKind kind) { return new Judgement.Failed(kind, kind.name()); }

    static JudgeOutcome run(Judge judge) throws InterruptedException {
        JudgeStep.Generated replies = JudgeStep.generate(model, tok, ChatTemplate.LLAMA3, TEN, GENERATION, (phase, f) -> {});
        return new JudgeStep(judge, 0.1).judge(replies, (phase, f) -> {});
    }

    @Test
    void offlineJudgeScoresEndToEndAndReportsProgress() throws Exception {
        List<String> progress = new ArrayList<>();
        JudgeStep step = JudgeStep.of(new OfflineJudge(), ScoringSettings.defaults());
        GenerationOptions generation = JudgeSettings.from(ConfigFactory.defaultReference()).generation();
        JudgeStep.Generated replies = JudgeStep.generate(model, tok, ChatTemplate.CHATML, TEN, generation, (phase, f) -> progress.add(phase + " " + f));
        JudgeOutcome a = step.judge(replies, (phase, f) -> progress.add(phase + " " + f));
        assertTrue(a.succeeded(), a.failureReason());
        assertEquals("offline-heuristic-v1", a.judgeName());
        assertEquals(10, a.validVerdicts());
        assertEquals(10, a.verdicts().size());
        long wins = a.verdicts().stream().flatMap(v -> List.of(v.realism(), v.entertainment(), v.coherency()).stream())
                .filter("generated"::equals).count();
        assertEquals(wins, a.generatedWins());
        assertEquals(wins / 30.0, a.score(), 1e-12);
        VerdictRecord first = a.verdicts().get(0);
        assertEquals(TEN.get(0).id(), first.sampleId());
        assertEquals(TEN.get(0).messages().get(0).content(), first.systemPrompt());
        assertEquals(TEN.get(0).messages().get(TEN.get(0).messages().size() - 1).content(), first.originalReply());
        assertEquals(TEN.get(0).messages().size() - 2, first.context().size(), "without the system and the last turn");
        assertNull(first.error());
        assertEquals(new JudgeIdentity("offline", "offline-heuristic-v1", null, null), first.judgeIdentity());
        assertEquals(first.judgeIdentity(), a.judgeIdentity());
        assertTrue(a.generatedTokens() > 0 && a.generationTokensPerSecond() > 0);
        assertEquals("generate 1.0", progress.get(progress.indexOf("judge 0.1") - 1));
        assertEquals("judge 1.0", progress.get(progress.size() - 1));
        // temperature 0 and a deterministic judge: the same outcome again
        JudgeStep.Generated again = JudgeStep.generate(model, tok, ChatTemplate.CHATML, TEN, generation, (phase, f) -> {});
        assertEquals(a.verdicts(), step.judge(again, (phase, f) -> {}).verdicts());
    }

    @Test
    void emptyRepliesAreJudgedLikeAnyOtherAndLose() throws Exception {
        // What a model that stops at once writes: nothing. The judge sees it, and it loses; no judgement failed.
        List<Comparison> empty = TEN.stream().map(c -> Comparison.of(c, "")).toList();
        List<String> seen = java.util.Collections.synchronizedList(new ArrayList<>());
        OfflineJudge offline = new OfflineJudge();
        Judge watched = new Judge() {
            @Override public String name() { return offline.name(); }
            @Override public io.sn11.cluster.domain.JudgeIdentity identity() { return offline.identity(); }
            @Override public int maxConcurrency() { return 1; }
            @Override public Judgement judge(Comparison c) {
                seen.add(c.generated());
                return offline.judge(c);
            }
        };
        JudgeOutcome o = new JudgeStep(watched, 0.1).judge(new JudgeStep.Generated(empty, 0, 0), (phase, f) -> {});
        assertEquals(java.util.Collections.nCopies(10, ""), seen);
        assertTrue(o.succeeded(), o.failureReason());
        assertEquals(10, o.validVerdicts());
        assertEquals(0, o.failed());
        assertEquals(0.0, o.score());
        assertTrue(o.verdicts().stream().allMatch(v -> v.error() == null && "original".equals(v.realism())), o.verdicts()::toString);
    }

    @Test
    void tallyMatchesHandWorkedNumbers() throws Exception {
        // wins per sample: 3, 2, 1, 0, 0, 1, 1, 1, 1 and one failure: 10 wins / (3 x 9) = 0.370370...
        Side G = Side.GENERATED, O = Side.ORIGINAL, T = Side.TIE;
        List<Judgement> script = List.of(valid(G, G, G), valid(G, T, G), valid(O, G, T), valid(O, O, O), valid(T, T, T),
                valid(G, O, O), valid(T, G, T), valid(O, O, G), valid(G, T, T), failed(FailureKind.JUDGE_UNAVAILABLE));
        JudgeOutcome o = run(scripted(script::get));
        assertTrue(o.succeeded(), "1 of 10 failed is exactly 10%: allowed");
        assertEquals(10.0 / 27, o.score(), 1e-12);
        assertEquals(9, o.validVerdicts());
        assertEquals(1, o.failed());
        assertEquals(10, o.generatedWins());
        VerdictRecord failedRecord = o.verdicts().get(9);
        assertNull(failedRecord.realism());
        assertEquals("JUDGE_UNAVAILABLE", failedRecord.error());
        assertEquals("tie", o.verdicts().get(4).coherency());
    }

    @Test
    void tooManyFailuresAreBlamedOnWhoCausedThem() throws Exception {
        Judgement ok = valid(Side.TIE, Side.GENERATED, Side.ORIGINAL);
        // 2 of 10 unreachable: infrastructure
        JudgeOutcome unreachable = run(scripted(i -> i < 2 ? failed(FailureKind.JUDGE_UNAVAILABLE) : ok));
        assertEquals(FailureCategory.INFRASTRUCTURE, unreachable.failureCategory());
        assertTrue(unreachable.failureReason().startsWith("2 of 10 judgements failed (more than 10%; 2 judge unavailable)"),
                unreachable.failureReason());
        assertEquals(1.0 / 3, unreachable.score(), 1e-12, "the score of the valid verdicts is still reported");
        // 2 invalid answers while the judge judged the 8 others: the replies made verdicts impossible
        assertEquals(FailureCategory.MINER,
                run(scripted(i -> i < 2 ? failed(FailureKind.JUDGE_INVALID_ANSWER) : ok)).failureCategory());
        // nothing but invalid answers: the judge is broken, not the model
        assertEquals(FailureCategory.INFRASTRUCTURE,
                run(scripted(i -> failed(FailureKind.JUDGE_INVALID_ANSWER))).failureCategory());
        // 1 unusable reply (10%, allowed alone) and 1 outage: retrying later could succeed
        assertEquals(FailureCategory.INFRASTRUCTURE, run(scripted(i -> i == 0 ? failed(FailureKind.REPLY_UNUSABLE)
                : i == 1 ? failed(FailureKind.JUDGE_UNAVAILABLE) : ok)).failureCategory());
        // 2 unusable replies: the model's fault whatever else happened
        assertEquals(FailureCategory.MINER, run(scripted(i -> i < 2 ? failed(FailureKind.REPLY_UNUSABLE)
                : i < 5 ? failed(FailureKind.JUDGE_UNAVAILABLE) : ok)).failureCategory());
        // a judge that throws counts as unavailable
        assertEquals(FailureCategory.INFRASTRUCTURE, run(scripted(i -> {
            if (i < 2) throw new IllegalStateException("boom");
            return ok;
        })).failureCategory());
    }

    @Test
    void throughTheChatCompletionsProtocol() throws Exception {
        JudgeSettings.Provider local = null;
        // the first 7 requests get verdicts, the rest malformed JSON: 3 of 10 failed with the judge working
        try (FakeChatCompletions half = new FakeChatCompletions(n -> n < 7 ? Answer.verdict("generated", "tie", "original")
                : Answer.verdictContent("{oops"))) {
            local = new JudgeSettings.Provider("local", half.baseUrl(), "fake", null);
            JudgeOutcome o = run(new ChatCompletionsJudge(api(local), Map.of()));
            assertEquals(FailureCategory.MINER, o.failureCategory(), o.failureReason());
            assertEquals(7, o.validVerdicts());
            assertEquals(3, o.failed());
            assertEquals(7.0 / 21, o.score(), 1e-12);
            assertEquals("chat-completions[local:fake]", o.judgeName());
            assertEquals(3, o.verdicts().stream().filter(v -> v.error() != null && v.error().contains("not JSON")).count());
        }
        // the same server gone: every judgement fails for want of a judge
        JudgeOutcome down = run(new ChatCompletionsJudge(api(local), Map.of()));
        assertEquals(FailureCategory.INFRASTRUCTURE, down.failureCategory());
        assertEquals(10, down.failed());
    }

    static JudgeSettings api(JudgeSettings.Provider p) {
        return new JudgeSettings(JudgeSettings.Kind.API, 4, Duration.ofSeconds(2), 0, Duration.ofMillis(10),
                Duration.ofMillis(100), List.of(p), GENERATION, JudgeSettingsTest.NO_MODEL);
    }
}
