package io.sn11.coordinator.http;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/** The API's open connections, in all and per client address, and whether a new one fits under both caps. */
final class ConnectionLimits {
  /** Why a new connection was refused, as the metrics label it. */
  enum Refusal {
    MAX_CONNECTIONS_PER_ADDRESS("max_connections_per_address"),
    MAX_CONNECTIONS("max_connections");

    final String label;

    Refusal(String label) {
      this.label = label;
    }
  }

  private final int max;
  private final int maxPerAddress;
  private final Map<InetAddress, Integer> openPerAddress = new HashMap<>();
  private int open;

  ConnectionLimits(int max, int maxPerAddress) {
    this.max = max;
    this.maxPerAddress = maxPerAddress;
  }

  /** Counts a new connection from {@code client} in when it fits; otherwise says which cap it would exceed. */
  synchronized Optional<Refusal> admit(InetAddress client) {
    int fromClient = openPerAddress.getOrDefault(client, 0);
    if (fromClient >= maxPerAddress) return Optional.of(Refusal.MAX_CONNECTIONS_PER_ADDRESS);
    if (open >= max) return Optional.of(Refusal.MAX_CONNECTIONS);
    openPerAddress.put(client, fromClient + 1);
    open++;
    return Optional.empty();
  }

  /** Gives back the place of a closed connection that {@link #admit} counted in. */
  synchronized void release(InetAddress client) {
    openPerAddress.computeIfPresent(client, (address, count) -> count == 1 ? null : count - 1);
    open--;
  }
}
