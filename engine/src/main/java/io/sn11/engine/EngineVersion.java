package io.sn11.engine;

/** Reported with every result; bump when a change can move scores. */
public final class EngineVersion {
    private EngineVersion() {}
    public static final String VERSION = "sn11-engine/0.1.0";
}
