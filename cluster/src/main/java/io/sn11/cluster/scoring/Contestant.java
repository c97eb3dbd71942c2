package io.sn11.cluster.scoring;

/**
 * One registered miner as the win-rate step sees it.
 *
 * @param block  chain block of the submission; a higher block is a later submission
 * @param score  total score
 * @param invalid failed, duplicate, unscored or submitted after the cut-off block
 */
public record Contestant(int uid, long block, double score, boolean invalid) {
}
