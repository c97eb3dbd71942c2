package io.sn11.launcher;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sn11.cluster.scoring.ModelHash;
import io.sn11.coordinator.http.Ss58Address;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** A made-up model that a load test submits: distinct per run and number, with a hotkey of its own. */
record SyntheticModel(String namespace, String name, String hotkey, String hash) {
  static final String CHAT_TEMPLATE = "chatml";

  /** Model {@code n} of the run {@code run}; its own hotkey keeps the server's per-hotkey limit out of the way. */
  static SyntheticModel of(String run, int n) {
    try {
      byte[] key = MessageDigest.getInstance("SHA-256").digest((run + "/" + n).getBytes(StandardCharsets.UTF_8));
      String namespace = "load-" + run;
      String name = "model-" + n;
      String hotkey = Ss58Address.encode(42, key);
      return new SyntheticModel(namespace, name, hotkey, ModelHash.of(namespace, name, CHAT_TEMPLATE, hotkey));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The body of {@code POST /check_model}. */
  ObjectNode checkModelBody(long block) {
    return ApiClient.JSON.createObjectNode()
        .put("repo_namespace", namespace)
        .put("repo_name", name)
        .put("chat_template_type", CHAT_TEMPLATE)
        .put("hotkey", hotkey)
        .put("hash", hash)
        .put("block", block);
  }

  /** The path and query of {@code GET /model_submission_details} for this model. */
  String detailsPath() {
    return "/model_submission_details?repo_namespace=" + encode(namespace) + "&repo_name=" + encode(name) + "&chat_template_type=" + CHAT_TEMPLATE
        + "&hotkey=" + encode(hotkey) + "&hash=" + hash;
  }

  private static String encode(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8);
  }
}
