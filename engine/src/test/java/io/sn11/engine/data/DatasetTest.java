package io.sn11.engine.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class DatasetTest {
    @TempDir Path dir;

    @Test
    void syntheticIsDeterministicAndRoundTrips() throws IOException {
        Dataset a = SyntheticDataset.generate(7, 40), b = SyntheticDataset.generate(7, 40);
        assertEquals(a, b);
        assertNotEquals(a.version(), SyntheticDataset.generate(8, 40).version());
        Path f = dir.resolve("d.jsonl");
        a.write(f);
        Dataset r = Dataset.read(f);
        assertEquals(a.conversations(), r.conversations());
        assertEquals(a.version(), r.version());
        assertTrue(r.version().matches("sha256:[0-9a-f]{16}"));
        for (Conversation c : r.conversations()) assertEquals("assistant", c.messages().get(c.messages().size() - 1).role());
    }

    @Test
    void selectionDependsOnModelHashAndVersionOnly() {
        Dataset d = SyntheticDataset.generate(1, 50);
        List<Conversation> s1 = d.select("123456", 10), s2 = d.select("123456", 10), s3 = d.select("654321", 10);
        assertEquals(s1, s2);
        assertNotEquals(s1, s3);
        assertEquals(10, new HashSet<>(s1).size(), "no repeats");
        assertEquals(d.select("123456", 5), s1.subList(0, 5), "a prefix of a larger selection");
        assertEquals(50, d.select("x", 500).size());
    }

    @Test
    void badLinesNamed() throws IOException {
        Path f = dir.resolve("bad.jsonl");
        Files.writeString(f, "{\"id\":\"a\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":\"yo\"}]}\n"
                + "{\"id\":\"b\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Dataset.read(f));
        assertTrue(e.getMessage().contains("line 2"), e.getMessage());
        Files.writeString(f, "{\"id\":\"a\",\"messages\":[{\"role\":\"narrator\",\"content\":\"hi\"}]}\n");
        assertThrows(IllegalArgumentException.class, () -> Dataset.read(f));
    }
}
