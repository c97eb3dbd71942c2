package io.sn11.engine.safetensors;

/** A safetensors file is malformed or unsupported; the message names the file and, where known, the tensor. */
public class SafetensorsException extends RuntimeException {
    public SafetensorsException(String message) { super(message); }
    public SafetensorsException(String message, Throwable cause) { super(message, cause); }
}
