// What the set/verify/recover process tests share: the built Coordinator as a separate process on
// the simulated TEE (free ports, its own state and sim directories, killable with SIGKILL), the
// built CLI as users run it, and a workspace whose manifest is made from `contrast policy generate`
// output (the manifest-building part of `contrast generate`, written out here by hand).
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadSimulatedAuthority, nodeSimAuthorityFileSystem } from "@contrast/attestation/testing";
import { type Manifest, type PolicyEntry, serializeManifest, simReferenceValues } from "@contrast/manifest";
import {
  encodeEcPrivateKey,
  encodeSeedShareOwnerKey,
  seedShareOwnerPublicKeyHex,
  workloadOwnerKeyDigest,
} from "@contrast/mesh-pki";
import { type StartedCoordinator, startSimCoordinator } from "@contrast/testkit";
import { BUNDLE } from "./helpers.js";

export interface RunningCoordinator extends StartedCoordinator {
  /** host:port of its user API. */
  readonly address: string;
}

/** Starts the built Coordinator (sim platform) and resolves once it logs the ports it bound. */
export async function startCoordinator(stateDir: string, simDir: string, userApiPort = 0): Promise<RunningCoordinator> {
  const c = await startSimCoordinator({ stateDir, simDir, userApiPort });
  return { ...c, address: `127.0.0.1:${c.userApiPort}` };
}

/** Kills the Coordinator with SIGKILL (no shutdown) and waits until it is gone. */
export async function killCoordinator(c: RunningCoordinator): Promise<void> {
  c.proc.kill("SIGKILL");
  await c.exited;
}

/** The simulated authority's ARK key digest (the Coordinator creates the authority on first start). */
export async function simArkDigest(simDir: string): Promise<string> {
  const authority = await loadSimulatedAuthority(join(simDir, "authority.json"), nodeSimAuthorityFileSystem);
  if (authority === undefined) throw new Error(`no simulated authority in ${simDir}`);
  return authority.arkKeyDigest;
}

export interface OwnerKeys {
  readonly workloadOwner: KeyObject;
  readonly seedShareOwner: KeyObject;
}

/** Writes workload-owner.pem (P-384) and seedshare-owner.pem (RSA; 2048 bits to keep tests quick). */
export function writeOwnerKeys(dir: string): OwnerKeys {
  const workloadOwner = generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey;
  const seedShareOwner = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  writeFileSync(join(dir, "workload-owner.pem"), encodeEcPrivateKey(workloadOwner), { mode: 0o600 });
  writeFileSync(join(dir, "seedshare-owner.pem"), encodeSeedShareOwnerKey(seedShareOwner), { mode: 0o600 });
  return { workloadOwner, seedShareOwner };
}

export interface GeneratedWorkload {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly hash: string;
}

/**
 * The manifest `contrast generate` writes for these workloads on the sim platform: SANs
 * `[name, "*"]`, WorkloadSecretID `<group or core>/<version>/<Kind>/<namespace>/<name>` (apps/v1
 * for the kinds used here), the simulated ARK, the owner keys.
 */
export function manifestFor(
  workloads: readonly GeneratedWorkload[],
  arkKeyDigest: string,
  keys: { workloadOwners: readonly KeyObject[]; seedShareOwners: readonly KeyObject[] },
): string {
  const policies = new Map<string, PolicyEntry>();
  for (const w of workloads) {
    const group = w.kind === "Pod" ? "core/v1" : "apps/v1";
    policies.set(w.hash, {
      SANs: [w.name, "*"],
      WorkloadSecretID: `${group}/${w.kind}/${w.namespace || "default"}/${w.name}`,
      Role: "",
    });
  }
  const manifest: Manifest = {
    Policies: policies,
    ReferenceValues: { snp: [], tdx: [], sim: [simReferenceValues(arkKeyDigest)] },
    WorkloadOwnerKeyDigests: keys.workloadOwners.map(workloadOwnerKeyDigest).sort(),
    SeedshareOwnerPubKeys: keys.seedShareOwners.map(seedShareOwnerPublicKeyHex).sort(),
  } as Manifest;
  return serializeManifest(manifest);
}

/** Offline image metadata for the workloads of these tests (docs/image-metadata.md). */
export const IMAGE =
  "registry.k8s.io/pause:3.6@sha256:3d380ca8864549e74af4b29c10f9cb0956236dfb01c40ca076fb6c37253234db";
export const IMAGE_METADATA = JSON.stringify({
  schema: "contrast.image-metadata/v1",
  images: {
    [IMAGE]: {
      digest: IMAGE.split("@")[1],
      platform: { os: "linux", architecture: "amd64" },
      config: { User: "65535:65535", Entrypoint: ["/pause"] },
      layers: [{ diffId: `sha256:${"1".repeat(64)}`, verityHash: "2".repeat(64) }],
    },
  },
});

/** Two confidential Deployments and a Service; `env` changes the web container (a new policy). */
export function workloadsYaml(env = "v1"): string {
  const deployment = (name: string, extra = "") => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: shop
spec:
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      runtimeClassName: contrast-cc
      containers:
        - name: app
          image: ${IMAGE}${extra}
`;
  return `${deployment("web", `\n          env:\n            - {name: VERSION, value: "${env}"}`)}---
${deployment("db")}---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{port: 80}]
`;
}

/** The bundle's path, for messages. */
export const CLI_BUNDLE = BUNDLE;

export interface Deployment {
  readonly root: string;
  readonly ws: string;
  readonly stateDir: string;
  readonly simDir: string;
  coordinator: RunningCoordinator;
  readonly keys: OwnerKeys;
  readonly ark: string;
  /** Runs the built CLI in the workspace. */
  contrast(...args: string[]): { status: number | null; stdout: string; stderr: string };
  /** `policy generate` on the YAML for `env`, then manifest.json for its workloads. */
  generate(env: string): void;
}

/** A Coordinator with a first manifest set by `contrast set`, in scratch directories. */
export async function deploy(root: string): Promise<Deployment> {
  const { mkdirSync } = await import("node:fs");
  const { runBundle } = await import("./helpers.js");
  const ws = join(root, "workspace");
  const stateDir = join(root, "state");
  const simDir = join(root, "sim");
  mkdirSync(ws, { recursive: true });
  const coordinator = await startCoordinator(stateDir, simDir);
  const ark = await simArkDigest(simDir);
  const keys = writeOwnerKeys(ws);
  writeFileSync(join(ws, "images.json"), IMAGE_METADATA);
  const contrast = (...args: string[]) => runBundle(ws, args);
  const generate = (env: string) => {
    writeFileSync(join(ws, "app.yaml"), workloadsYaml(env));
    const r = contrast(
      "policy",
      "generate",
      "app.yaml",
      "--platform",
      "sim",
      "--image-metadata",
      "images.json",
      "-o",
      "json",
    );
    if (r.status !== 0) throw new Error(`policy generate failed: ${r.stdout}${r.stderr}`);
    const workloads = (JSON.parse(r.stdout) as { workloads: GeneratedWorkload[] }).workloads;
    writeFileSync(
      join(ws, "manifest.json"),
      manifestFor(workloads, ark, { workloadOwners: [keys.workloadOwner], seedShareOwners: [keys.seedShareOwner] }),
    );
  };
  generate("v1");
  const set = contrast("set", "-c", coordinator.address, "app.yaml");
  if (set.status !== 0) throw new Error(`contrast set failed: ${set.stdout}${set.stderr}`);
  return { root, ws, stateDir, simDir, coordinator, keys, ark, contrast, generate };
}
