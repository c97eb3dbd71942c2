package io.sn11.launcher;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sn11.cluster.scoring.ModelHash;
import picocli.CommandLine.Option;

/** A model as the API names it; the hash is computed from the other fields. */
final class ModelOptions {
  @Option(names = "--namespace", required = true, description = "Hugging Face namespace of the repository.")
  String namespace;

  @Option(names = "--name", required = true, description = "Hugging Face repository name.")
  String name;

  @Option(names = "--chat-template", required = true, description = "Chat template type, e.g. chatml, llama3, qwen2dot5.")
  String chatTemplate;

  @Option(names = "--hotkey", required = true, description = "The miner's hotkey (SS58 address).")
  String hotkey;

  String hash() {
    return ModelHash.of(namespace, name, chatTemplate, hotkey);
  }

  ObjectNode toJson() {
    return ApiClient.JSON.createObjectNode()
        .put("repo_namespace", namespace)
        .put("repo_name", name)
        .put("chat_template_type", chatTemplate)
        .put("hotkey", hotkey)
        .put("hash", hash());
  }
}
