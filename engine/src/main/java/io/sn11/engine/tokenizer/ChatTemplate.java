package io.sn11.engine.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The chat formats miners may declare. {@link #format} renders a conversation whose last message is an assistant
 * turn and splits the text in two: the {@code context} (everything up to and including the assistant header) and
 * the {@code target} (the last assistant turn's content followed by its end-of-turn marker). Scoring predicts the
 * target given the context; generation feeds the context and stops at one of {@link #stopStrings()}.
 */
public enum ChatTemplate {
    CHATML("chatml", List.of("<|im_end|>")),
    VICUNA("vicuna", List.of("</s>", "USER:")),
    ZEPHYR("zephyr", List.of("</s>", "<|user|>")),
    MISTRAL("mistral", List.of("</s>", "[INST]")),
    ALPACA("alpaca", List.of("</s>", "### Instruction:")),
    LLAMA2("llama2", List.of("</s>", "[INST]")),
    LLAMA3("llama3", List.of("<|eot_id|>", "<|end_of_text|>")),
    LLAMA3DOT1("llama3dot1", List.of("<|eot_id|>", "<|eom_id|>", "<|end_of_text|>")),
    GEMMA2("gemma2", List.of("<end_of_turn>", "<eos>")),
    QWEN2DOT5("qwen2dot5", List.of("<|im_end|>", "<|endoftext|>"));

    /** A rendered conversation: {@code context + target} is the whole text. */
    public record Formatted(String context, String target) {
        public String full() { return context + target; }
    }

    public static final String QWEN_DEFAULT_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";
    public static final String LLAMA31_DATE_HEADER = "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n";

    private final String id;
    private final List<String> stops;

    ChatTemplate(String id, List<String> stops) {
        this.id = id;
        this.stops = stops;
    }

    public String id() { return id; }

    /** End-of-turn markers: generation stops at the first of them. */
    public List<String> stopStrings() { return stops; }

    public static ChatTemplate byName(String name) {
        for (ChatTemplate t : values()) if (t.id.equals(name.toLowerCase(Locale.ROOT))) return t;
        throw new IllegalArgumentException("unknown chat template '" + name + "'; known: " + names());
    }

    public static List<String> names() { return Arrays.stream(values()).map(ChatTemplate::id).toList(); }

    /** The text that closes an assistant turn (the first part of the target's tail). */
    public String assistantEnd() {
        return switch (this) {
            case CHATML, QWEN2DOT5 -> "<|im_end|>\n";
            case VICUNA, MISTRAL -> "</s>";
            case ZEPHYR -> "</s>\n";
            case ALPACA -> "</s>";
            case LLAMA2 -> " </s>";
            case LLAMA3, LLAMA3DOT1 -> "<|eot_id|>";
            case GEMMA2 -> "<end_of_turn>\n";
        };
    }

    public Formatted format(List<Message> messages) {
        if (messages.isEmpty() || !messages.get(messages.size() - 1).role().equals("assistant")) {
            throw new IllegalArgumentException("the last message must be an assistant turn");
        }
        String system = null;
        List<Message> turns = new ArrayList<>();
        for (Message m : messages) {
            if (m.role().equals("system")) {
                if (system != null || !turns.isEmpty()) throw new IllegalArgumentException("one system message, first");
                system = m.content();
            } else {
                turns.add(m);
            }
        }
        StringBuilder sb = new StringBuilder();
        sb.append(prefix(system));
        for (int i = 0; i < turns.size() - 1; i++) sb.append(turn(turns.get(i), i, system));
        Message last = turns.get(turns.size() - 1);
        sb.append(assistantHeader(turns.size() - 1));
        return new Formatted(sb.toString(), last.content() + assistantEnd());
    }

    /** The context for generation: the conversation so far (ending with a user turn) plus the assistant header. */
    public String generationPrompt(List<Message> history) {
        List<Message> withAssistant = new ArrayList<>(history);
        withAssistant.add(Message.assistant(""));
        return format(withAssistant).context();
    }

    private String prefix(String system) {
        String sys = system == null ? "" : system;
        return switch (this) {
            case CHATML -> system == null ? "" : "<|im_start|>system\n" + sys + "<|im_end|>\n";
            case QWEN2DOT5 -> "<|im_start|>system\n" + (system == null ? QWEN_DEFAULT_SYSTEM : sys) + "<|im_end|>\n";
            case VICUNA -> system == null ? "" : sys + " ";
            case ZEPHYR -> system == null ? "" : "<|system|>\n" + sys + "</s>\n";
            case ALPACA -> system == null ? "" : sys + "\n\n";
            case MISTRAL, LLAMA2 -> "<s>";
            case LLAMA3 -> "<|begin_of_text|>" + (system == null ? "" : header("system") + sys + "<|eot_id|>");
            case LLAMA3DOT1 -> "<|begin_of_text|>" + header("system") + LLAMA31_DATE_HEADER + sys + "<|eot_id|>";
            case GEMMA2 -> "<bos>";
        };
    }

    private static String header(String role) { return "<|start_header_id|>" + role + "<|end_header_id|>\n\n"; }

    /** A complete non-final turn; index counts user/assistant turns from 0. */
    private String turn(Message m, int index, String system) {
        boolean user = m.role().equals("user");
        String c = m.content();
        return switch (this) {
            case CHATML, QWEN2DOT5 -> "<|im_start|>" + m.role() + "\n" + c + "<|im_end|>\n";
            case VICUNA -> user ? "USER: " + c + " " : "ASSISTANT: " + c + "</s>";
            case ZEPHYR -> "<|" + m.role() + "|>\n" + c + "</s>\n";
            case ALPACA -> user ? "### Instruction:\n" + c + "\n\n" : "### Response:\n" + c + "</s>\n\n";
            case MISTRAL -> user ? "[INST] " + withSystem(system, c, index, "\n\n") + " [/INST]" : c + "</s>";
            case LLAMA2 -> user
                    ? (index > 0 ? "<s>" : "") + "[INST] "
                        + (index == 0 && system != null ? "<<SYS>>\n" + system + "\n<</SYS>>\n\n" : "") + c + " [/INST]"
                    : " " + c + " </s>";
            case LLAMA3, LLAMA3DOT1 -> header(m.role()) + c + "<|eot_id|>";
            case GEMMA2 -> "<start_of_turn>" + (user ? "user" : "model") + "\n"
                    + (user ? withSystem(system, c, index, "\n\n") : c) + "<end_of_turn>\n";
        };
    }

    private static String withSystem(String system, String content, int index, String sep) {
        return index == 0 && system != null ? system + sep + content : content;
    }

    private String assistantHeader(int index) {
        return switch (this) {
            case CHATML, QWEN2DOT5 -> "<|im_start|>assistant\n";
            case VICUNA -> "ASSISTANT: ";
            case ZEPHYR -> "<|assistant|>\n";
            case ALPACA -> "### Response:\n";
            case MISTRAL -> "";
            case LLAMA2 -> " ";
            case LLAMA3, LLAMA3DOT1 -> header("assistant");
            case GEMMA2 -> "<start_of_turn>model\n";
        };
    }
}
