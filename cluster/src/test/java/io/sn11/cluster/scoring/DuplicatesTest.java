package io.sn11.cluster.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sn11.cluster.scoring.Duplicates.Candidate;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DuplicatesTest {

    @Test
    void sameModelHash() {
        Map<Integer, String> duplicates = Duplicates.find(List.of(
                new Candidate(5, "111", "a/model", null, 100),
                new Candidate(6, "111", "b/model", null, 120)));
        assertEquals(Map.of(6, "duplicate of uid 5 (same model hash 111, block 100)"), duplicates);
    }

    @Test
    void sameRepository() {
        Map<Integer, String> duplicates = Duplicates.find(List.of(
                new Candidate(8, "222", "org/model", null, 150),
                new Candidate(3, "111", "org/model", null, 100)));
        assertEquals(Map.of(8, "duplicate of uid 3 (same repository org/model, block 100)"), duplicates);
    }

    @Test
    void repositoryIgnoresCase() {
        // The Hub resolves "Org/Model" and "org/model" to the same repository; the reason shows the original's spelling.
        Map<Integer, String> duplicates = Duplicates.find(List.of(
                new Candidate(3, "111", "Org/Model", null, 100),
                new Candidate(8, "222", "org/model", null, 150)));
        assertEquals(Map.of(8, "duplicate of uid 3 (same repository Org/Model, block 100)"), duplicates);
    }

    @Test
    void sameContentHash() {
        Map<Integer, String> duplicates = Duplicates.find(List.of(
                new Candidate(1, "111", "a/model", "c0ffee", 100),
                new Candidate(2, "222", "b/copy", "c0ffee", 101)));
        assertEquals(Map.of(2, "duplicate of uid 1 (same content hash c0ffee, block 100)"), duplicates);
    }

    @Test
    void unknownContentHashesAreNotDuplicates() {
        Map<Integer, String> duplicates = Duplicates.find(List.of(
                new Candidate(1, "111", "a/model", null, 100),
                new Candidate(2, "222", "b/model", null, 101)));
        assertEquals(Map.of(), duplicates);
    }

    @Test
    void equalBlocksLowestUidKeeps() {
        Map<Integer, String> duplicates = Duplicates.find(List.of(
                new Candidate(9, "222", "org/model", null, 100),
                new Candidate(4, "111", "org/model", null, 100)));
        assertEquals(Map.of(9, "duplicate of uid 4 (same repository org/model, block 100)"), duplicates);
    }

    @Test
    void earliestBlockKeepsWhateverTheUid() {
        Map<Integer, String> duplicates = Duplicates.find(List.of(
                new Candidate(1, "111", "org/model", null, 200),
                new Candidate(2, "222", "org/model", null, 100)));
        assertEquals(Map.of(1, "duplicate of uid 2 (same repository org/model, block 100)"), duplicates);
    }

    @Test
    void hashIsReportedBeforeRepositoryAndContent() {
        // uid 2 matches uid 1 on all three keys; the reason names the first check, the model hash.
        Map<Integer, String> duplicates = Duplicates.find(List.of(
                new Candidate(1, "111", "org/model", "c0ffee", 100),
                new Candidate(2, "111", "org/model", "c0ffee", 101)));
        assertEquals(Map.of(2, "duplicate of uid 1 (same model hash 111, block 100)"), duplicates);
    }

    @Test
    void aDuplicateStillOwnsKeysItUsedFirst() {
        // uid 2 re-used uid 1's repository but uploaded new content c2; uid 3 copied c2 under another name.
        Map<Integer, String> duplicates = Duplicates.find(List.of(
                new Candidate(1, "111", "x/model", "c1", 1),
                new Candidate(2, "222", "x/model", "c2", 2),
                new Candidate(3, "333", "y/model", "c2", 3)));
        assertEquals(Map.of(
                2, "duplicate of uid 1 (same repository x/model, block 1)",
                3, "duplicate of uid 2 (same content hash c2, block 2)"), duplicates);
    }

    @Test
    void everyLaterCopyNamesTheOriginal() {
        Map<Integer, String> duplicates = Duplicates.find(List.of(
                new Candidate(1, "111", "org/model", null, 100),
                new Candidate(2, "222", "org/model", null, 200),
                new Candidate(3, "333", "org/model", null, 300)));
        assertEquals(Map.of(
                2, "duplicate of uid 1 (same repository org/model, block 100)",
                3, "duplicate of uid 1 (same repository org/model, block 100)"), duplicates);
    }

    @Test
    void repeatedUidIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> Duplicates.find(List.of(
                new Candidate(1, "111", "a/model", null, 100),
                new Candidate(1, "222", "b/model", null, 200))));
    }
}
