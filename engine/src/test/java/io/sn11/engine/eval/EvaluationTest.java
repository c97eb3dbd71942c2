package io.sn11.engine.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sn11.engine.Transformer;
import io.sn11.engine.backend.Backend.TopKStats;
import io.sn11.engine.backend.ScalarBackend;
import io.sn11.engine.data.Conversation;
import io.sn11.engine.data.Dataset;
import io.sn11.engine.data.SyntheticDataset;
import io.sn11.engine.safetensors.DType;
import io.sn11.engine.scoring.EvalScore;
import io.sn11.engine.tiny.TinyModels;
import io.sn11.engine.tokenizer.ChatTemplate;
import io.sn11.engine.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class EvaluationTest {
    @TempDir Path dir;

    @Test
    void evaluationIsDeterministicBatchInvariantAndSerialisable() throws Exception {
        Path m = dir.resolve("m");
        TinyModels.write(m, TinyModels.Arch.LLAMA, DType.BF16, 11);
        Dataset d = SyntheticDataset.generate(2, 20);
        EvalResult one, batched;
        try (ScalarBackend be = new ScalarBackend(2)) {
            one = Evaluation.run(m, d, new Evaluation.Options(5, "777", ChatTemplate.LLAMA3, 2048, 1), be);
            batched = Evaluation.run(m, d, new Evaluation.Options(5, "777", ChatTemplate.LLAMA3, 2048, 3), be);
        }
        assertEquals(one.evalScore(), batched.evalScore(), 1e-6);
        assertEquals(one.creativity(), batched.creativity(), 1e-6);
        assertEquals(one.sampleIds(), batched.sampleIds());
        assertEquals(d.select("777", 5).stream().map(Conversation::id).toList(), one.sampleIds());
        assertEquals(Files.size(m.resolve("model.safetensors")), one.modelSizeBytes());
        assertTrue(one.latencyMs() > 0);
        assertEquals(d.version(), one.datasetVersion());
        String json = new ObjectMapper().writeValueAsString(one);
        EvalResult back = new ObjectMapper().readValue(json, EvalResult.class);
        assertEquals(one.evalScore(), back.evalScore());
        assertEquals(one.sampleIds(), back.sampleIds());
    }

    @Test
    void scoresExactlyTheTargetTokens() throws Exception {
        Path m = dir.resolve("m2");
        TinyModels.write(m, TinyModels.Arch.MISTRAL, DType.F32, 4);
        Dataset d = SyntheticDataset.generate(3, 4);
        try (ScalarBackend be = new ScalarBackend(2); Transformer t = Transformer.load(m, be); Tokenizer tok = Tokenizer.load(m)) {
            Conversation c = d.conversations().get(0);
            Evaluation.Prepared p = Evaluation.prepare(c, ChatTemplate.MISTRAL, tok, 4096);
            ChatTemplate.Formatted f = ChatTemplate.MISTRAL.format(c.messages());
            int[] target = tok.encode(f.target());
            // Mistral's tokenizer prepends <s>; the mistral template writes it already: exactly one
            assertEquals(tok.encode(f.context()).length, p.targetStart());
            assertEquals(1, java.util.Arrays.stream(p.tokens()).filter(x -> x == tok.singleTokenId("<s>")).count());
            Evaluation.Prepared chatml = Evaluation.prepare(c, ChatTemplate.CHATML, tok, 4096);
            assertEquals(tok.singleTokenId("<s>"), chatml.tokens()[0], "BOS added where the template has none");
            assertEquals(tok.encode(ChatTemplate.CHATML.format(c.messages()).context()).length + 1, chatml.targetStart());
            assertEquals(f.target(), tok.decode(java.util.Arrays.copyOfRange(p.tokens(), p.targetStart(), p.tokens().length)));
            // score by hand from the full logits of the sequence
            float[][] logits = t.logits(p.tokens());
            List<Double> probs = new ArrayList<>();
            double ent = 0;
            for (int i = 0; i < target.length; i++) {
                float[] row = logits[p.targetStart() - 1 + i];
                TopKStats s = be.topKStats(be.upload(row), 1, row.length, new int[] {target[i]}, 10);
                probs.add(s.targetInTopK()[0] ? s.targetProb()[0] : 1e-9);
                ent += s.entropy()[0];
            }
            double expectedScore = EvalScore.ngramScore(probs.stream().mapToDouble(Double::doubleValue).toArray());
            double expectedCreativity = 1 - Math.exp(-5 * ent / target.length / Math.log(10));
            Dataset single = new Dataset(List.of(c), d.version());
            EvalResult r = Evaluation.run(m.toString(), t, tok, single, new Evaluation.Options(1, "x", ChatTemplate.MISTRAL, 4096, 1));
            assertEquals(expectedScore, r.evalScore(), 1e-6);
            assertEquals(expectedCreativity, r.creativity(), 1e-6);
            assertEquals(target.length, r.scoredTokens());
        }
    }

    @Test
    void longSamplesLoseContextFromTheLeft() throws Exception {
        Path m = dir.resolve("m3");
        TinyModels.write(m, TinyModels.Arch.QWEN2, DType.F16, 4);
        try (Tokenizer tok = Tokenizer.load(m)) {
            Conversation c = SyntheticDataset.generate(5, 1).conversations().get(0);
            Evaluation.Prepared full = Evaluation.prepare(c, ChatTemplate.CHATML, tok, 100000);
            int targetLen = full.tokens().length - full.targetStart();
            Evaluation.Prepared cut = Evaluation.prepare(c, ChatTemplate.CHATML, tok, targetLen + 5);
            assertEquals(targetLen + 5, cut.tokens().length);
            assertEquals(5, cut.targetStart());
            assertArrayEquals(java.util.Arrays.copyOfRange(full.tokens(), full.targetStart() - 5, full.tokens().length), cut.tokens());
        }
    }
}
