package io.sn11.engine.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ChatTemplateTest {
    static final List<Message> CONV = List.of(Message.system("SYS"), Message.user("U1"), Message.assistant("A1"),
            Message.user("U2"), Message.assistant("A2"));

    static void check(String name, String context, String target, List<String> stops) {
        ChatTemplate t = ChatTemplate.byName(name);
        ChatTemplate.Formatted f = t.format(CONV);
        assertEquals(context, f.context(), name + " context");
        assertEquals(target, f.target(), name + " target");
        assertEquals(stops, t.stopStrings(), name + " stops");
        assertTrue(f.target().startsWith("A2"));
    }

    @Test void chatml() {
        check("chatml", "<|im_start|>system\nSYS<|im_end|>\n<|im_start|>user\nU1<|im_end|>\n<|im_start|>assistant\nA1<|im_end|>\n"
                + "<|im_start|>user\nU2<|im_end|>\n<|im_start|>assistant\n", "A2<|im_end|>\n", List.of("<|im_end|>"));
    }

    @Test void vicuna() {
        check("vicuna", "SYS USER: U1 ASSISTANT: A1</s>USER: U2 ASSISTANT: ", "A2</s>", List.of("</s>", "USER:"));
    }

    @Test void zephyr() {
        check("zephyr", "<|system|>\nSYS</s>\n<|user|>\nU1</s>\n<|assistant|>\nA1</s>\n<|user|>\nU2</s>\n<|assistant|>\n",
                "A2</s>\n", List.of("</s>", "<|user|>"));
    }

    @Test void mistral() {
        check("mistral", "<s>[INST] SYS\n\nU1 [/INST]A1</s>[INST] U2 [/INST]", "A2</s>", List.of("</s>", "[INST]"));
    }

    @Test void alpaca() {
        check("alpaca", "SYS\n\n### Instruction:\nU1\n\n### Response:\nA1</s>\n\n### Instruction:\nU2\n\n### Response:\n",
                "A2</s>", List.of("</s>", "### Instruction:"));
    }

    @Test void llama2() {
        check("llama2", "<s>[INST] <<SYS>>\nSYS\n<</SYS>>\n\nU1 [/INST] A1 </s><s>[INST] U2 [/INST] ", "A2 </s>",
                List.of("</s>", "[INST]"));
    }

    @Test void llama3() {
        String h = "<|start_header_id|>%s<|end_header_id|>\n\n";
        check("llama3", "<|begin_of_text|>" + h.formatted("system") + "SYS<|eot_id|>" + h.formatted("user") + "U1<|eot_id|>"
                + h.formatted("assistant") + "A1<|eot_id|>" + h.formatted("user") + "U2<|eot_id|>" + h.formatted("assistant"),
                "A2<|eot_id|>", List.of("<|eot_id|>", "<|end_of_text|>"));
    }

    @Test void llama3dot1() {
        String h = "<|start_header_id|>%s<|end_header_id|>\n\n";
        check("llama3dot1", "<|begin_of_text|>" + h.formatted("system")
                + "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\nSYS<|eot_id|>" + h.formatted("user")
                + "U1<|eot_id|>" + h.formatted("assistant") + "A1<|eot_id|>" + h.formatted("user") + "U2<|eot_id|>"
                + h.formatted("assistant"), "A2<|eot_id|>", List.of("<|eot_id|>", "<|eom_id|>", "<|end_of_text|>"));
    }

    @Test void gemma2() {
        check("gemma2", "<bos><start_of_turn>user\nSYS\n\nU1<end_of_turn>\n<start_of_turn>model\nA1<end_of_turn>\n"
                + "<start_of_turn>user\nU2<end_of_turn>\n<start_of_turn>model\n", "A2<end_of_turn>\n",
                List.of("<end_of_turn>", "<eos>"));
    }

    @Test void qwen2dot5() {
        check("qwen2dot5", "<|im_start|>system\nSYS<|im_end|>\n<|im_start|>user\nU1<|im_end|>\n<|im_start|>assistant\nA1<|im_end|>\n"
                + "<|im_start|>user\nU2<|im_end|>\n<|im_start|>assistant\n", "A2<|im_end|>\n", List.of("<|im_end|>", "<|endoftext|>"));
        // no system message: Qwen's default system prompt
        String ctx = ChatTemplate.QWEN2DOT5.format(List.of(Message.user("hi"), Message.assistant("yo"))).context();
        assertTrue(ctx.startsWith("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud."), ctx);
    }

    @Test void allTenKnownAndUnknownNamesListThem() {
        assertEquals(List.of("chatml", "vicuna", "zephyr", "mistral", "alpaca", "llama2", "llama3", "llama3dot1", "gemma2",
                "qwen2dot5"), ChatTemplate.names());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ChatTemplate.byName("phi3"));
        assertTrue(e.getMessage().contains("unknown chat template 'phi3'") && e.getMessage().contains("qwen2dot5"), e.getMessage());
    }

    @Test void lastMessageMustBeAssistantAndGenerationPromptEndsWithHeader() {
        assertThrows(IllegalArgumentException.class, () -> ChatTemplate.CHATML.format(List.of(Message.user("x"))));
        assertEquals("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
                ChatTemplate.CHATML.generationPrompt(List.of(Message.user("hi"))));
    }
}
