/** A ready peer Coordinator. */
export interface PeerCoordinator {
  readonly name: string;
  readonly ip: string;
}

/**
 * The Coordinator's view of its peers (other Coordinator pods of the deployment that are ready):
 * user recovery is refused while one exists, because peer recovery keeps the mesh CA key and user
 * recovery replaces it. The Kubernetes implementation lists pods; tests pass a fixed list.
 */
export interface PeerSource {
  listPeers(): Promise<readonly PeerCoordinator[]>;
}
