package io.sn11.engine;

import io.sn11.engine.backend.Backend;
import io.sn11.engine.backend.Backend.Buffer;
import io.sn11.engine.backend.Backend.TopKStats;
import io.sn11.engine.backend.ScalarBackend;
import io.sn11.engine.safetensors.DType;
import io.sn11.engine.tiny.TinyModels;
import io.sn11.engine.tiny.TinyModels.Arch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The Transformer's activation workspace: passes reuse their buffers (a decode loop allocates none per token), buffers
 * handed to the caller are never the workspace's, and results do not depend on what the workspace held before.
 */
class TransformerWorkspaceTest {
    @TempDir Path dir;

    /** A backend that counts the activation buffers it creates (allocate and upload of floats). */
    static final class CountingBackend implements InvocationHandler {
        final Backend target = new ScalarBackend(2);
        int buffers;

        Backend backend() {
            return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class}, this);
        }

        @Override
        public Object invoke(Object proxy, Method m, Object[] args) throws Throwable {
            if (m.getName().equals("allocate") || (m.getName().equals("upload") && args[0] instanceof float[])) buffers++;
            try {
                return m.invoke(target, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        }
    }

    Path model(Arch arch) throws IOException {
        Path m = dir.resolve(arch.name());
        TinyModels.write(m, arch, DType.BF16, 8);
        return m;
    }

    @Test
    void decodeAllocatesNoBufferPerToken() throws IOException {
        CountingBackend counting = new CountingBackend();
        try (Backend be = counting.backend(); Transformer t = Transformer.load(model(Arch.LLAMA), be);
             Transformer.Sequence s = t.newSequence(40)) {
            int[] tokens = TransformerTest.randomTokens(5, 30, t.config().vocabSize());
            t.logits(s, Arrays.copyOf(tokens, 6));
            int afterPrefill = counting.buffers;
            for (int p = 6; p < tokens.length; p++) t.logits(s, new int[] {tokens[p]});
            assertEquals(afterPrefill, counting.buffers, "buffers allocated by 24 decode steps");
        }
    }

    @Test
    void repeatedScoringOfTheSameShapeAllocatesNoBuffer() throws IOException {
        CountingBackend counting = new CountingBackend();
        try (Backend be = counting.backend(); Transformer t = Transformer.load(model(Arch.QWEN2), be)) {
            List<int[]> batch = List.of(TransformerTest.randomTokens(1, 20, 300), TransformerTest.randomTokens(2, 12, 300));
            int[] starts = {4, 1};
            List<TopKStats> first = t.scoreTargets(batch, starts, 10, 8);
            int afterFirst = counting.buffers;
            List<TopKStats> again = t.scoreTargets(batch, starts, 10, 8);
            assertEquals(afterFirst, counting.buffers, "buffers allocated by a second scoring of the same batch");
            for (int i = 0; i < batch.size(); i++) {
                assertArrayEquals(first.get(i).targetProb(), again.get(i).targetProb(), 0f);
                assertArrayEquals(first.get(i).entropy(), again.get(i).entropy(), 0f);
            }
        }
    }

    @Test
    void batchedDecodeStepsAllocateNoBufferAndMatchTheFullLogits() throws IOException {
        CountingBackend counting = new CountingBackend();
        try (Backend be = counting.backend(); Transformer t = Transformer.load(model(Arch.MISTRAL), be);
             Transformer.Sequence a = t.newSequence(20); Transformer.Sequence b = t.newSequence(20)) {
            int[] ta = TransformerTest.randomTokens(3, 14, 300), tb = TransformerTest.randomTokens(4, 11, 300);
            float[][] fullA = t.logits(ta), fullB = t.logits(tb);
            float[][] next = t.nextLogits(List.of(a, b), List.of(Arrays.copyOf(ta, 5), Arrays.copyOf(tb, 2)));
            assertArrayEquals(fullA[4], next[0], 0f);
            assertArrayEquals(fullB[1], next[1], 0f);
            int afterPrefill = counting.buffers;
            for (int step = 0; step < 9; step++) {
                next = t.nextLogits(List.of(a, b), List.of(new int[] {ta[5 + step]}, new int[] {tb[2 + step]}));
                assertArrayEquals(fullA[5 + step], next[0], 0f, "sequence a, decode step " + step);
                assertArrayEquals(fullB[2 + step], next[1], 0f, "sequence b, decode step " + step);
            }
            assertEquals(afterPrefill, counting.buffers, "buffers allocated by 9 batched decode steps");
            assertThrows(IllegalArgumentException.class, () -> t.nextLogits(List.of(a), List.of(new int[0])));
        }
    }

    @Test
    void hiddenStatesHandedOutAreNotOverwrittenByLaterPasses() throws IOException {
        try (ScalarBackend be = new ScalarBackend(2); Transformer t = Transformer.load(model(Arch.LLAMA), be);
             Transformer.Sequence s = t.newSequence(8)) {
            int[] tokens = TransformerTest.randomTokens(6, 8, 300);
            try (Buffer hidden = t.forwardHidden(List.of(s), List.of(tokens)); Buffer logits = t.logitsOfRows(hidden, new int[] {7})) {
                float[] h = be.download(hidden), l = be.download(logits);
                t.logits(TransformerTest.randomTokens(7, 8, 300));
                t.scoreTargets(List.of(TransformerTest.randomTokens(8, 8, 300)), new int[] {1}, 10, 4);
                assertArrayEquals(h, be.download(hidden), 0f);
                assertArrayEquals(l, be.download(logits), 0f);
            }
        }
    }

    @Test
    void aPassLargerThanTheWorkspaceGivesTheSameLogitsAsAFreshModel() throws IOException {
        Path m = model(Arch.QWEN2);
        int[] tokens = TransformerTest.randomTokens(9, 17, 300);
        float[][] fresh;
        try (ScalarBackend be = new ScalarBackend(2); Transformer t = Transformer.load(m, be)) {
            fresh = t.logits(tokens);
        }
        try (ScalarBackend be = new ScalarBackend(2); Transformer t = Transformer.load(m, be)) {
            t.logits(Arrays.copyOf(tokens, 3));  // the workspace is sized for 3 rows, then grows to 17
            float[][] grown = t.logits(tokens);
            for (int p = 0; p < tokens.length; p++) assertArrayEquals(fresh[p], grown[p], 0f, "position " + p);
        }
    }
}
