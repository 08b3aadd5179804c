import type { LocalCluster, LocalClusterOptions } from "./types.js";

/** Starts the cluster network (a bridge in its own namespace, one veth to the host side). */
export async function startLocalCluster(options: LocalClusterOptions): Promise<LocalCluster> {
  void options;
  throw new Error("startLocalCluster: being written (D1)");
}
