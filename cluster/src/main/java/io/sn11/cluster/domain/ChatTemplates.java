package io.sn11.cluster.domain;

import java.util.List;

/** The chat template names the subnet accepts. */
public final class ChatTemplates {
  public static final List<String> KNOWN =
      List.of("chatml", "vicuna", "zephyr", "mistral", "alpaca", "llama2", "llama3", "llama3dot1", "gemma2", "qwen2dot5");

  private ChatTemplates() {}
}
