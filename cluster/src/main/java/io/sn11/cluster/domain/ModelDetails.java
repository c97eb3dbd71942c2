package io.sn11.cluster.domain;

import io.sn11.cluster.CborSerializable;

/**
 * What a miner submitted: the repository, its chat template, the miner's hotkey and the block of the
 * submission. {@code hash} is the model hash derived from the other fields (see ModelHash).
 */
public record ModelDetails(
    String hash,
    String repoNamespace,
    String repoName,
    String chatTemplateType,
    String hotkey,
    long block,
    String revision,
    String competitionId)
    implements CborSerializable {

  /** The revision evaluated when the submission names none. */
  public static final String DEFAULT_REVISION = "main";

  public String repository() {
    return repoNamespace + "/" + repoName;
  }

  /** The repository as Hugging Face resolves it, whatever the case it was written in: the key duplicates are found by. */
  public String repositoryKey() {
    return repository().toLowerCase(java.util.Locale.ROOT);
  }

  public String revisionOrDefault() {
    return revision == null ? DEFAULT_REVISION : revision;
  }
}
