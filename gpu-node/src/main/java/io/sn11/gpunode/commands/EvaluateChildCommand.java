package io.sn11.gpunode.commands;

import io.sn11.gpunode.worker.EvaluationChild;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/**
 * The JVM a gpu-node evaluates one model in: not for people (hidden), the node starts it. The job comes as a JSON line
 * on standard input; updates leave as JSON lines on standard output (see {@link EvaluationChild}).
 */
@Command(name = EvaluateChildCommand.NAME, hidden = true, description = "Evaluate one model for the gpu-node that started this process.")
public class EvaluateChildCommand implements Callable<Integer> {
    public static final String NAME = "evaluate-child";

    /** A system property naming the evaluated model's hash on the JVM's command line, where ps shows it (the class path comes later). */
    public static final String MODEL_PROPERTY = "sn11.evaluation.model";

    @Override
    public Integer call() throws Exception {
        // Standard output carries the updates only: whatever else prints (loggers, libraries) goes to standard error.
        FileOutputStream updates = new FileOutputStream(FileDescriptor.out);
        System.setOut(System.err);
        return EvaluationChild.run(System.in, updates);
    }
}
