// Types of client.mjs for the tests that share it.
import type { KeyObject } from "node:crypto";
import type { MeshAPI, NewMeshCertResponse, ServiceClient, UserAPI } from "@contrast/api";
import type { AtlsVerifyOptions } from "@contrast/atls";
import type { SimulatedAuthority } from "@contrast/attestation/testing";

export declare const ecKey: (curve?: string) => KeyObject;
export declare const rsaKey: () => KeyObject;
export declare function loadSim(simDir: string): Promise<SimulatedAuthority>;
export declare function simVerify(authority: SimulatedAuthority): AtlsVerifyOptions;
export declare function userClient(
  port: number,
  authority: SimulatedAuthority,
  key: KeyObject,
  host?: string,
): ServiceClient<typeof UserAPI>;
export type MeshClient = ServiceClient<typeof MeshAPI> & { channelBinding(deadline?: Date): Promise<Uint8Array> };
export declare function meshClient(port: number, authority: SimulatedAuthority, meshKey: KeyObject): MeshClient;
export declare const policy: (name: string) => { doc: Uint8Array; hash: string };
export declare const coordinatorPolicy: { doc: Uint8Array; hash: string };
export declare function setManifestRequest(options: {
  authority: SimulatedAuthority;
  workloads: Record<string, { SANs?: string[]; WorkloadSecretID?: string }>;
  owners?: KeyObject[];
  seedShareOwners?: KeyObject[];
  generation?: number;
}): { Manifest: Uint8Array; Policies: Uint8Array[] };
export declare function requestMeshCert(
  client: MeshClient,
  authority: SimulatedAuthority,
  meshKey: KeyObject,
  workloadName: string,
  options?: { evidenceKey?: KeyObject; nonce?: Uint8Array; binding?: "tls-exporter" | "nonce"; exporter?: Uint8Array },
): Promise<NewMeshCertResponse>;
export declare function exporterMeshCertRequest(
  client: MeshClient,
  authority: SimulatedAuthority,
  meshKey: KeyObject,
  workloadName: string,
  options?: { evidenceKey?: KeyObject; exporter?: Uint8Array },
): Promise<{ Evidence: Uint8Array; EvidenceOID: string; EvidenceBinding: number }>;
