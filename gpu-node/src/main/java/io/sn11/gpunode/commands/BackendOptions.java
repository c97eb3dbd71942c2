package io.sn11.gpunode.commands;

import io.sn11.gpunode.engine.backend.Backend;
import io.sn11.gpunode.engine.backend.Backends;
import picocli.CommandLine.Option;

/** Backend choice shared by the engine commands (mixed in with @Mixin). */
public class BackendOptions {
    @Option(names = "--backend", defaultValue = "auto", paramLabel = "NAME",
            description = "Inference backend: auto (cuda when a device, the driver and the PTX are present, else cpu), "
                    + "cpu (plain Java reference) or cuda. Default: ${DEFAULT-VALUE}.")
    String backend;

    @Option(names = "--threads", defaultValue = "0", paramLabel = "N",
            description = "Worker threads for the cpu backend; 0 = one per core. Default: ${DEFAULT-VALUE}.")
    int threads;

    Backend create() { return Backends.create(backend, threads); }
}
