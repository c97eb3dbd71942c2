package io.sn11.engine;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.abort;

/** The bundle's test entry point decides pass or fail as the GPU proof needs: a skip fails only in strict mode. */
class JUnitMainTest {
    static class Skipping {
        @Test void passes() {}
        @Test void skips() { abort("no device here"); }
    }

    static class Failing {
        @Test void fails() { fail("wrong"); }
    }

    static class Empty {}

    static final String SKIPPING = Skipping.class.getName(), FAILING = Failing.class.getName();

    @Test
    void aSkipPassesOnlyOutsideStrictMode() {
        assertTrue(JUnitMain.run(false, SKIPPING));
        assertFalse(JUnitMain.run(true, SKIPPING));
        assertTrue(JUnitMain.run(true, SKIPPING + "#passes"), "one method selected: nothing skipped");
    }

    @Test
    void aFailureOrNoTestAtAllFailsTheRun() {
        assertFalse(JUnitMain.run(false, FAILING));
        assertFalse(JUnitMain.run(false, SKIPPING + "#passes", FAILING));
        assertFalse(JUnitMain.run(false, Empty.class.getName()));
    }
}
