package io.sn11.engine;

import java.util.List;

/** What a JVM that runs the engine is started with (the launcher script, surefire and child JVMs say the same). */
public final class EngineJvm {
    /**
     * The Vector API for the SIMD kernels (an incubator module, not resolved unless asked for), and native access
     * for JCuda and the tokenizer's native library (Java 25 warns on every native load without it).
     */
    public static final List<String> OPTIONS = List.of("--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED");

    private EngineJvm() {}
}
