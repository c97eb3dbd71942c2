package io.sn11.gpunode.judge;

import io.sn11.engine.data.Conversation;
import io.sn11.engine.tokenizer.Message;

import java.util.List;

/**
 * What a judge compares: two versions of a conversation that share every turn but the last assistant turn.
 *
 * @param systemPrompt the character's system prompt (the conversation's system message, else its character name)
 * @param context      the turns before the last assistant turn, system message excluded
 */
public record Comparison(String sampleId, String systemPrompt, List<Message> context, String original, String generated) {
    public Comparison {
        context = List.copyOf(context);
    }

    /** The conversation's last assistant turn against the model's {@code generated} one. */
    public static Comparison of(Conversation c, String generated) {
        List<Message> m = c.messages();
        boolean hasSystem = m.get(0).role().equals("system");
        String system = hasSystem ? m.get(0).content() : c.character();
        return new Comparison(c.id(), system, m.subList(hasSystem ? 1 : 0, m.size() - 1), m.get(m.size() - 1).content(),
                generated);
    }
}
