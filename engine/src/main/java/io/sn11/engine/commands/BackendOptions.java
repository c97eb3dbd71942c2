package io.sn11.engine.commands;

import io.sn11.engine.backend.Backend;
import io.sn11.engine.backend.Backends;
import picocli.CommandLine.Option;

/** Backend choice shared by the engine commands (mixed in with @Mixin). */
public class BackendOptions {
    @Option(names = "--backend", defaultValue = "auto", paramLabel = "NAME",
            description = "Inference backend: auto (cuda when a device, the driver and the PTX are present, else cpu), "
                    + "cpu (SIMD kernels with the Vector API), scalar (the plain-Java reference kernels) or cuda. "
                    + "Default: ${DEFAULT-VALUE}.")
    String backend;

    @Option(names = "--threads", defaultValue = "0", paramLabel = "N",
            description = "Worker threads for the cpu and scalar backends; 0 = one per core. Default: ${DEFAULT-VALUE}.")
    int threads;

    Backend create() { return Backends.create(backend, threads); }
}
