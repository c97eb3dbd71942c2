package io.sn11.coordinator.weights;

import io.sn11.coordinator.CoordinatorSettings;
import java.time.Clock;
import java.time.Duration;

/**
 * The chain's current block as this node knows it: the highest block it has seen from the chain (in its
 * registry), or the block estimated from the configured reference at one block per block time, whichever
 * is higher. Blocks far beyond it are refused, so that a mistyped block cannot stop folding for good (a
 * block not after the last folded one never folds).
 */
final class ChainHeight {
  private final CoordinatorSettings.WeightsSettings settings;
  private final Clock clock;

  ChainHeight(CoordinatorSettings.WeightsSettings settings, Clock clock) {
    this.settings = settings;
    this.clock = clock;
  }

  /** The chain's current block, given the highest block seen in the registry. */
  long current(long highestSeen) {
    CoordinatorSettings.ChainReference reference = settings.chainReference();
    if (reference == null) return highestSeen;
    long estimate = reference.block() + Duration.between(reference.at(), clock.instant()).dividedBy(settings.blockTime());
    return Math.max(highestSeen, estimate);
  }

  /** The highest block that may be folded or previewed. */
  long highestAllowed(long highestSeen) {
    long current = current(highestSeen);
    // Saturating: a reference far in the future must not wrap around to a negative limit.
    return current > Long.MAX_VALUE - settings.maxBlocksAhead() ? Long.MAX_VALUE : current + settings.maxBlocksAhead();
  }

  long maxBlocksAhead() {
    return settings.maxBlocksAhead();
  }
}
