package io.sn11.engine.model;

/** A model folder cannot be used: unsupported architecture, bad config, missing or mis-shaped weight. */
public class ModelException extends RuntimeException {
    public ModelException(String message) { super(message); }
    public ModelException(String message, Throwable cause) { super(message, cause); }
}
