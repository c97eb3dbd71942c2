package io.sn11.launcher;

import io.sn11.cluster.node.Sn11Node;

/** The commands that run a node keep it in the foreground: they say where it is, then wait until it stops. */
final class Foreground {
  private Foreground() {}

  /** Prints {@code banner} (one line, for people and for the scripts that wait for it) and blocks until the node has stopped. */
  static int run(Sn11Node node, String banner) {
    System.out.println(banner);
    System.out.flush();
    node.system().getWhenTerminated().toCompletableFuture().join();
    return 0;
  }
}
