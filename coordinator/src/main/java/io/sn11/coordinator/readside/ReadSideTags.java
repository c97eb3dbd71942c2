package io.sn11.coordinator.readside;

import java.util.List;
import java.util.stream.IntStream;

/**
 * Events of every entity that the read side projects carry one of {@code count} tags, chosen by entity
 * id, so that as many projection instances can share the work and each entity's events stay in order.
 */
public final class ReadSideTags {
  private static final String PREFIX = "readside-";

  private ReadSideTags() {}

  public static String tagFor(String entityId, int count) {
    return PREFIX + Math.floorMod(entityId.hashCode(), count);
  }

  public static List<String> all(int count) {
    return IntStream.range(0, count).mapToObj(i -> PREFIX + i).toList();
  }
}
