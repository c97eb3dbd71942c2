package io.sn11.cluster.node;

/** Cluster roles that entities, projections and workers are pinned to. */
public final class Roles {
  public static final String COORDINATOR = "coordinator";
  public static final String GPU_NODE = "gpu-node";

  private Roles() {}
}
