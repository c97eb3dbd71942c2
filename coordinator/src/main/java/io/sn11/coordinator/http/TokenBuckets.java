package io.sn11.coordinator.http;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * A token bucket per key (a hotkey, a client address): {@code capacity} requests in a burst, refilled
 * evenly over {@code period}. Buckets that have refilled completely carry no information and are
 * dropped when the map grows, so memory stays bounded by the keys active within the last period.
 */
final class TokenBuckets {
  private static final int PRUNE_ABOVE = 100_000;

  private record Bucket(double tokens, long updatedNanos) {}

  private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();
  private final double capacity;
  private final long periodNanos;
  private final LongSupplier clock;

  TokenBuckets(int capacity, Duration period, LongSupplier nanoClock) {
    if (capacity < 1) throw new IllegalArgumentException("a token bucket holds at least one token, was " + capacity);
    if (period.isNegative() || period.isZero()) throw new IllegalArgumentException("a token bucket refills over a positive period");
    this.capacity = capacity;
    this.periodNanos = period.toNanos();
    this.clock = nanoClock;
  }

  /** Takes one token for the key; false when its bucket is empty. */
  boolean tryAcquire(String key) {
    long now = clock.getAsLong();
    if (buckets.size() > PRUNE_ABOVE) buckets.values().removeIf(b -> refilled(b, now) >= capacity);
    boolean[] acquired = new boolean[1];
    buckets.compute(
        key,
        (k, bucket) -> {
          double tokens = bucket == null ? capacity : refilled(bucket, now);
          acquired[0] = tokens >= 1;
          return new Bucket(acquired[0] ? tokens - 1 : tokens, now);
        });
    return acquired[0];
  }

  /** Whole seconds until the key's bucket holds a token again (at least 1 when it is empty now). */
  long secondsUntilNext(String key) {
    Bucket bucket = buckets.get(key);
    if (bucket == null) return 0;
    double missing = 1 - refilled(bucket, clock.getAsLong());
    return missing <= 0 ? 0 : Math.max(1, (long) Math.ceil(missing * periodNanos / capacity / 1e9));
  }

  private double refilled(Bucket bucket, long now) {
    return Math.min(capacity, bucket.tokens() + (now - bucket.updatedNanos()) * capacity / periodNanos);
  }
}
