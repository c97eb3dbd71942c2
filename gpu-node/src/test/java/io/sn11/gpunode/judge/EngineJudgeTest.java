package io.sn11.gpunode.judge;

import io.sn11.cluster.domain.JudgeIdentity;
import io.sn11.engine.EngineVersion;
import io.sn11.engine.data.Conversation;
import io.sn11.engine.data.SyntheticDataset;
import io.sn11.engine.safetensors.DType;
import io.sn11.engine.tiny.TinyModels;
import io.sn11.engine.tokenizer.RealTokenizers;
import io.sn11.gpunode.store.Precheck;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A random-weight tiny judge with a real tokenizer (Qwen3's 151,669 tokens) on the cpu backend: every verdict
 * schema-valid, the same verdicts twice, judged a batch at a time.
 */
class EngineJudgeTest {
    static final int BATCH = 4;
    static final int MAX_NEW_TOKENS = 320;
    @TempDir static Path dir;
    static Path folder;
    static EngineJudge judge;

    /** Ten comparisons: the synthetic conversations' last turns against the same turns with their words reversed. */
    static final List<Comparison> TEN = comparisons(10);

    static List<Comparison> comparisons(int n) {
        List<Comparison> out = new ArrayList<>();
        for (Conversation c : SyntheticDataset.generate(7, n).conversations()) {
            String last = c.messages().get(c.messages().size() - 1).content();
            List<String> words = new ArrayList<>(List.of(last.split(" ")));
            Collections.reverse(words);
            out.add(Comparison.of(c, String.join(" ", words)));
        }
        return out;
    }

    /** A tiny Qwen2 whose embedding covers the real tokenizer, with that tokenizer.json. */
    static Path tinyJudgeWithRealTokenizer(Path folder) throws IOException {
        TinyModels.Shape shape = TinyModels.Shape.TINY;
        TinyModels.write(folder, TinyModels.Arch.QWEN2, DType.BF16, 17, new TinyModels.Shape(shape.hidden(), shape.intermediate(),
                shape.layers(), shape.heads(), shape.kvHeads(), 151_680, shape.llamaTied(), shape.ropeFactor(),
                shape.ropeOriginalMaxPositions(), 4096, shape.embeddingStd()));
        Files.copy(RealTokenizers.all().get(0).file(), folder.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
        return folder;
    }

    static JudgeSettings.EngineModel settings(Path folder, int batch) {
        return new JudgeSettings.EngineModel("", "main", folder, "chatml", batch, MAX_NEW_TOKENS);
    }

    @BeforeAll
    static void load() throws IOException {
        folder = tinyJudgeWithRealTokenizer(dir.resolve("judge"));
        judge = EngineJudge.load(folder, folder.toString(), settings(folder, BATCH), "cpu", 1);
    }

    @AfterAll
    static void close() {
        judge.close();
    }

    @Test
    void everyVerdictIsSchemaValidTheSameTwiceAndJudgedABatchAtATime() {
        List<Double> progress = new ArrayList<>();
        EngineJudge.Figures[] figures = new EngineJudge.Figures[1];
        List<Judgement> first = judge.judgeAll(TEN, progress::add, figures);
        assertEquals(TEN.size(), first.size());
        for (Judgement j : first) {
            Judgement.Valid valid = assertInstanceOf(Judgement.Valid.class, j, j::toString);
            JudgeVerdict v = valid.verdict();
            for (String reasoning : List.of(v.realismReasoning(), v.entertainmentReasoning(), v.coherencyReasoning())) {
                assertTrue(reasoning.codePointCount(0, reasoning.length()) <= JudgePrompt.REASONING_MAX_LENGTH, reasoning); // as JSON Schema counts
            }
            assertEquals(judge.name(), valid.judgedBy());
        }
        assertEquals(List.of(0.4, 0.8, 1.0), progress, "ten comparisons, four per batched generation");
        assertTrue(figures[0].generatedTokens() > 0 && figures[0].generatedTokens() <= TEN.size() * MAX_NEW_TOKENS, figures[0]::toString);
        assertEquals(first, judge.judgeAll(TEN, f -> {}), "temperature 0: the same verdicts again");
        assertEquals(first.get(5), judge.judge(TEN.get(5)), "and alone");
    }

    /** A prompt the judge's context cannot hold beside a verdict is not cut: that comparison fails as the judge's. */
    @Test
    void aPromptBeyondTheJudgesContextFailsAsTheJudgesAndTheBatchGoesOn() {
        Comparison c = TEN.get(1);
        Comparison tooLong = new Comparison(c.sampleId(), c.systemPrompt(), c.context(), c.original(), "ha ".repeat(4096));
        List<Judgement> judged = judge.judgeAll(List.of(tooLong, TEN.get(0)), f -> {});
        Judgement.Failed failed = assertInstanceOf(Judgement.Failed.class, judged.get(0));
        assertEquals(Judgement.FailureKind.JUDGE_UNAVAILABLE, failed.kind());
        assertTrue(failed.reason().contains("more than the " + (4096 - MAX_NEW_TOKENS)), failed.reason());
        assertEquals(judge.judge(TEN.get(0)), judged.get(1));
    }

    @Test
    void itsIdentityNamesTheModelItsContentAndTheEngine() {
        JudgeIdentity expected = new JudgeIdentity("engine", folder.toString(),
                new Precheck().check(folder, "chatml", Long.MAX_VALUE).contentHash(), EngineVersion.VERSION);
        assertEquals(expected, judge.identity());
        assertEquals(64, judge.identity().contentHash().length());
    }

    @Test
    void aFolderThatIsNoModelIsTheOperatorsErrorNamingIt() throws IOException {
        Path empty = Files.createDirectories(dir.resolve("not-a-model"));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> EngineJudge.load(empty, "acme/none@main", settings(empty, 2), "cpu", 1));
        assertTrue(e.getMessage().startsWith("the judge model acme/none@main (" + empty + ") cannot be used: "), e.getMessage());
    }
}
