import { createPublicKey, type KeyObject } from "node:crypto";
import type { EvidenceIssuer } from "@contrast/atls";
import type { Clock, Logger } from "@contrast/core";
import { type CredentialFile, credentialFiles } from "./layout.js";
import type { MeshCertClient } from "./mesh-client.js";
import { obtainMeshCredentials } from "./obtain.js";
import type { Backoff } from "./retry.js";
import { type CredentialFileSystem, writeCredentials } from "./write.js";

export interface InitializeOptions {
  /** The workload key (P-256); it becomes the pod's mesh TLS key. */
  readonly key: KeyObject;
  /** Mesh API clients whose TLS client certificate is for `key`. */
  readonly connect: () => Promise<MeshCertClient>;
  readonly issuer: EvidenceIssuer;
  readonly fs: CredentialFileSystem;
  /** The output root, `/contrast` in a pod. */
  readonly root: string;
  /** Upstream's `/done`: written empty after every credential file; absent or "": none. */
  readonly marker?: string | undefined;
  readonly clock: Clock;
  readonly log: Logger;
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly jitter: () => number;
  readonly signal: AbortSignal;
  readonly backoff?: Backoff;
  readonly callTimeoutMs?: number;
}

export interface InitializeResult {
  readonly attempts: number;
  /** Absolute paths written, the marker last. */
  readonly written: readonly string[];
  readonly hasWorkloadSecret: boolean;
}

/**
 * The initializer's work (reference §7 steps 4–8, the key made by the caller): get mesh
 * credentials for `key`, retrying until the Coordinator issues them, then write the files
 * atomically. Stopping (`signal`) before the answer leaves nothing written; once an answer is
 * accepted the files are written to the end, so the pod never sees half of them.
 */
export async function initializeWorkload(options: InitializeOptions): Promise<InitializeResult> {
  const publicKeyDer = new Uint8Array(createPublicKey(options.key).export({ type: "spki", format: "der" }));
  const privateKeyPem = options.key.export({ type: "pkcs8", format: "pem" }).toString();
  const { value: files, attempts } = await obtainMeshCredentials<CredentialFile[]>({
    connect: options.connect,
    publicKeyDer,
    issuer: options.issuer,
    accept: (answer) => credentialFiles(answer, { publicKeyDer, privateKeyPem }),
    clock: options.clock,
    log: options.log,
    sleep: options.sleep,
    jitter: options.jitter,
    signal: options.signal,
    ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
    ...(options.callTimeoutMs === undefined ? {} : { callTimeoutMs: options.callTimeoutMs }),
  });
  const written = await writeCredentials(options.fs, options.root, files, { marker: options.marker });
  return { attempts, written, hasWorkloadSecret: files.some((f) => f.path.startsWith("secrets/")) };
}
