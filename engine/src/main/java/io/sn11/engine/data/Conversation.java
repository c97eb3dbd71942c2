package io.sn11.engine.data;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.sn11.engine.tokenizer.Message;

import java.util.List;

/** One line of the dataset: a roleplay conversation whose last message is the assistant turn to score. */
public record Conversation(String id, String character, List<Message> messages) {
    @JsonCreator
    public Conversation(@JsonProperty("id") String id, @JsonProperty("character") String character,
                        @JsonProperty("messages") List<Message> messages) {
        if (id == null || id.isEmpty()) throw new IllegalArgumentException("conversation without id");
        if (messages == null || messages.isEmpty()) throw new IllegalArgumentException("conversation " + id + " has no messages");
        if (!messages.get(messages.size() - 1).role().equals("assistant")) {
            throw new IllegalArgumentException("conversation " + id + ": the last message must be an assistant turn");
        }
        this.id = id;
        this.character = character == null ? "" : character;
        this.messages = List.copyOf(messages);
    }
}
