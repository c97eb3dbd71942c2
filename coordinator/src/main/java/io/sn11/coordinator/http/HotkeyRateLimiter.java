package io.sn11.coordinator.http;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * A token bucket per hotkey for open submissions: {@code perHour} submissions in a burst, refilled
 * evenly over the hour. Buckets that have refilled completely carry no information and are dropped
 * when the map grows, so memory stays bounded by the hotkeys active within the last hour.
 */
final class HotkeyRateLimiter {
  private static final long HOUR_NANOS = 3_600_000_000_000L;
  private static final int PRUNE_ABOVE = 100_000;

  private record Bucket(double tokens, long updatedNanos) {}

  private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();
  private final double capacity;
  private final LongSupplier clock;

  HotkeyRateLimiter(int perHour, LongSupplier nanoClock) {
    this.capacity = perHour;
    this.clock = nanoClock;
  }

  /** Takes one token for the hotkey; false when its bucket is empty. */
  boolean tryAcquire(String hotkey) {
    long now = clock.getAsLong();
    if (buckets.size() > PRUNE_ABOVE) buckets.values().removeIf(b -> refilled(b, now) >= capacity);
    boolean[] acquired = new boolean[1];
    buckets.compute(
        hotkey,
        (key, bucket) -> {
          double tokens = bucket == null ? capacity : refilled(bucket, now);
          acquired[0] = tokens >= 1;
          return new Bucket(acquired[0] ? tokens - 1 : tokens, now);
        });
    return acquired[0];
  }

  /** Seconds until the hotkey's bucket holds a token again. */
  long secondsUntilNext(String hotkey) {
    Bucket bucket = buckets.get(hotkey);
    if (bucket == null) return 0;
    double missing = 1 - refilled(bucket, clock.getAsLong());
    return missing <= 0 ? 0 : (long) Math.ceil(missing * HOUR_NANOS / capacity / 1e9);
  }

  private double refilled(Bucket bucket, long now) {
    return Math.min(capacity, bucket.tokens() + (now - bucket.updatedNanos()) * capacity / HOUR_NANOS);
  }
}
