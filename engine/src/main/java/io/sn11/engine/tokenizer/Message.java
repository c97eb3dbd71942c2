package io.sn11.engine.tokenizer;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;

/** One turn of a conversation: role is system, user or assistant. */
public record Message(String role, String content) {
    @JsonCreator
    public Message(@JsonProperty("role") String role, @JsonProperty("content") String content) {
        if (!role.equals("system") && !role.equals("user") && !role.equals("assistant")) {
            throw new IllegalArgumentException("unknown role '" + role + "'; known: system, user, assistant");
        }
        this.role = role;
        this.content = content == null ? "" : content;
    }

    public static Message system(String c) { return new Message("system", c); }
    public static Message user(String c) { return new Message("user", c); }
    public static Message assistant(String c) { return new Message("assistant", c); }
}
