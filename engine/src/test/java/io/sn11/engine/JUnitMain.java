package io.sn11.engine;

import io.sn11.engine.backend.Backends;
import org.junit.platform.engine.DiscoverySelector;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectMethod;

/**
 * Runs test classes from a plain {@code java} command line, as the GPU bundle does (it has no Maven):
 * {@code java -cp ... io.sn11.engine.JUnitMain CLASS|CLASS#METHOD ...}. Prints one line per test and a summary, and
 * exits 1 when a test failed, when none ran, or, where {@value Backends#REQUIRE_CUDA} is set, when one was skipped.
 */
public final class JUnitMain {
    private JUnitMain() {}

    public static void main(String[] args) {
        if (args.length == 0) {
            System.err.println("usage: JUnitMain CLASS|CLASS#METHOD ...");
            System.exit(2);
        }
        System.exit(run(Backends.cudaRequired(System.getenv()), args) ? 0 : 1);
    }

    /** Runs the selected tests, printing as they end; true when the run passes (see the class comment). */
    static boolean run(boolean strict, String... selectors) {
        List<DiscoverySelector> selected = Arrays.stream(selectors)
                .map(s -> s.contains("#") ? (DiscoverySelector) selectMethod(s) : selectClass(s)).toList();
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request().selectors(selected).build();
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        LauncherFactory.create().execute(request, summary, new Printer());
        TestExecutionSummary s = summary.getSummary();
        long skipped = s.getTestsAbortedCount() + s.getTestsSkippedCount();
        System.out.printf("%d tests: %d passed, %d failed, %d skipped (%.1f s)%s%n", s.getTestsFoundCount(),
                s.getTestsSucceededCount(), s.getTotalFailureCount(), skipped,
                (s.getTimeFinished() - s.getTimeStarted()) / 1e3, strict ? ", strict: a skip fails the run" : "");
        if (s.getTotalFailureCount() > 0) s.printFailuresTo(new PrintWriter(System.out, true), 8);
        return s.getTotalFailureCount() == 0 && s.getTestsFoundCount() > 0 && !(strict && skipped > 0);
    }

    /** One line per test (and per failed or skipped container): outcome, name, seconds, reason. */
    private static final class Printer implements TestExecutionListener {
        private final Map<String, Long> started = new ConcurrentHashMap<>();

        @Override
        public void executionStarted(TestIdentifier id) { started.put(id.getUniqueId(), System.nanoTime()); }

        @Override
        public void executionSkipped(TestIdentifier id, String reason) {
            System.out.printf("SKIPPED %s: %s%n", name(id), reason);
        }

        @Override
        public void executionFinished(TestIdentifier id, TestExecutionResult result) {
            if (!id.isTest() && result.getStatus() == TestExecutionResult.Status.SUCCESSFUL) return;
            double seconds = (System.nanoTime() - started.getOrDefault(id.getUniqueId(), System.nanoTime())) / 1e9;
            String why = result.getThrowable().map(t -> ": " + t).orElse("");
            String outcome = switch (result.getStatus()) {
                case SUCCESSFUL -> "PASSED";
                case ABORTED -> "SKIPPED";
                case FAILED -> "FAILED";
            };
            System.out.printf("%-7s %s (%.1f s)%s%n", outcome, name(id), seconds, why);
        }

        private static String name(TestIdentifier id) {
            String owner = id.getSource().map(s -> s instanceof MethodSource m ? m.getClassName()
                    : s instanceof ClassSource c ? c.getClassName() : "").orElse("");
            return owner.substring(owner.lastIndexOf('.') + 1) + " " + id.getDisplayName();
        }
    }
}
