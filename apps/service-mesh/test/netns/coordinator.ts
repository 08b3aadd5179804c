// The real Coordinator (built bundle, platform sim) in the root namespace and the real initializer
// inside the test pods, joined to it by a veth link each: the pod's credentials come from the same
// path as in a cluster (attestation, NewMeshCert, atomic writes) before the proxy starts on them.
import { execFileSync, spawn } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createServiceClient, UserAPI } from "@contrast/api";
import { atlsChannelCredentials } from "@contrast/atls";
import { loadSimulatedAuthority, nodeSimAuthorityFileSystem } from "@contrast/attestation/testing";
import { sha256Hex, systemClock, utf8 } from "@contrast/core";
import {
  type PolicyEntry,
  SIM_COORDINATOR_POLICY_HASH,
  SIM_COORDINATOR_POLICY_LABEL,
  serializeManifest,
  simReferenceValues,
} from "@contrast/manifest";
import { cryptoRandom } from "@contrast/mesh-pki";
import { COORDINATOR_BUNDLE as COORDINATOR, childEnv, simCoordinatorArgs, spawnIn } from "@contrast/testkit";
import { type Pod, Proc } from "./pods.js";

const APPS = join(dirname(fileURLToPath(import.meta.url)), "../../..");
const INITIALIZER = join(APPS, "initializer/dist/contrast-initializer.cjs");

const bundle = (path: string) => {
  if (!existsSync(path)) throw new Error(`${path} is missing: run pnpm build`);
  return path;
};

/**
 * Joins `pod` to the root namespace by a veth pair: `root` (an address with its prefix length, e.g.
 * `10.17.0.1/30`) on the root side, `inPod` inside the pod. The pair goes away with the pod's
 * namespace. Returns the root side's address, for the pod to reach the Coordinator at.
 */
export function linkToRoot(pod: Pod, root: string, inPod: string): string {
  const rootIf = `ctkc${randomBytes(4).toString("hex")}`;
  const ip = (args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "pipe", "pipe"] });
  ip(["link", "add", rootIf, "type", "veth", "peer", "name", "coord0", "netns", pod.ns.name]);
  try {
    ip(["addr", "add", root, "dev", rootIf]);
    ip(["link", "set", rootIf, "up"]);
    ip(["-n", pod.ns.name, "addr", "add", inPod, "dev", "coord0"]);
    ip(["-n", pod.ns.name, "link", "set", "coord0", "up"]);
  } catch (error) {
    execFileSync("ip", ["link", "del", rootIf], { stdio: "ignore" });
    throw error;
  }
  return root.replace(/\/\d+$/, "");
}

/** A workload's policy document and its hash, the manifest's key for it. */
export const policy = (name: string) => {
  const doc = utf8(`package agent_policy\n# ${name}\n`);
  return { doc, hash: sha256Hex(doc) };
};

export interface RunningCoordinator extends Proc {
  readonly userApiPort: number;
  readonly meshApiPort: number;
  /** Sets a manifest listing `workloads` (each with its SANs) and the Coordinator itself. */
  setManifest(workloads: readonly { hash: string; doc: Uint8Array; sans: readonly string[] }[]): Promise<void>;
}

/** Starts the sim Coordinator in the root namespace on all addresses, on free ports. */
export async function startCoordinator(stateDir: string, simDir: string): Promise<RunningCoordinator> {
  const child = spawn(
    process.execPath,
    [bundle(COORDINATOR), ...simCoordinatorArgs({ stateDir, simDir, host: "0.0.0.0" })],
    { stdio: ["ignore", "pipe", "pipe"], env: childEnv() },
  );
  const proc = new Proc("coordinator", child);
  const line = await proc.waitFor((l) => l.msg === "coordinator listening", '"coordinator listening"', 60_000);
  const authority = await loadSimulatedAuthority(join(simDir, "authority.json"), nodeSimAuthorityFileSystem);
  if (authority === undefined) throw new Error("the Coordinator made no sim authority");
  const userApiPort = line.userApiPort as number;
  return Object.assign(proc, {
    userApiPort,
    meshApiPort: line.meshApiPort as number,
    async setManifest(workloads: readonly { hash: string; doc: Uint8Array; sans: readonly string[] }[]) {
      const Policies = new Map<string, PolicyEntry>(
        workloads.map((w) => [w.hash, { SANs: [...w.sans], WorkloadSecretID: "", Role: "" }]),
      );
      Policies.set(SIM_COORDINATOR_POLICY_HASH, { SANs: ["coordinator"], WorkloadSecretID: "", Role: "coordinator" });
      const manifest = utf8(
        serializeManifest({
          Policies,
          ReferenceValues: { snp: [], tdx: [], sim: [simReferenceValues(authority.arkKeyDigest)] },
          WorkloadOwnerKeyDigests: [],
          SeedshareOwnerPubKeys: [],
        }),
      );
      const credentials = atlsChannelCredentials({
        verify: {
          referenceValues: { sim: [simReferenceValues(authority.arkKeyDigest)] },
          allowedHostData: [SIM_COORDINATOR_POLICY_HASH],
          clock: systemClock,
        },
        clientKey: generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey,
        random: cryptoRandom,
      });
      const user = createServiceClient(UserAPI, `127.0.0.1:${userApiPort}`, credentials);
      try {
        await user.setManifest({
          Manifest: manifest,
          Policies: [...workloads.map((w) => w.doc), utf8(SIM_COORDINATOR_POLICY_LABEL)],
        });
      } finally {
        user.close();
      }
    },
  });
}

/**
 * Starts the sim Coordinator inside `pod` (the Coordinator's own pod, which has no mesh sidecar),
 * on upstream's fixed ports (mesh API 7777, user API 1313); `args` adds flags such as
 * `--default-deny`. Resolves when it listens.
 */
export async function startCoordinatorIn(
  pod: Pod,
  stateDir: string,
  simDir: string,
  args: readonly string[] = [],
): Promise<Proc> {
  const child = spawnIn(
    pod.ns,
    [
      process.execPath,
      bundle(COORDINATOR),
      ...simCoordinatorArgs({ stateDir, simDir, host: "0.0.0.0", userApiPort: 1313, meshApiPort: 7777, args }),
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: childEnv() },
  );
  const proc = new Proc(`coordinator in ${pod.ns.name}`, child);
  await proc.waitFor((l) => l.msg === "coordinator listening", '"coordinator listening"', 60_000);
  return proc;
}

/** Runs the built initializer inside `pod` as the pod's first init container would, output under `root`. */
export function startInitializer(
  pod: Pod,
  options: {
    coordinatorHost: string;
    meshApiPort: number;
    simDir: string;
    policyHash: string;
    root: string;
    env?: Readonly<Record<string, string>>;
    /** More initializer flags. */
    args?: readonly string[];
  },
): Proc {
  const child = spawnIn(
    pod.ns,
    [
      process.execPath,
      bundle(INITIALIZER),
      "--platform",
      "sim",
      "--sim-dir",
      options.simDir,
      "--sim-policy-hash",
      options.policyHash,
      "--root",
      options.root,
      "--mesh-api-port",
      String(options.meshApiPort),
      "--retry-initial",
      "0.05",
      "--retry-max",
      "0.2",
      ...(options.args ?? []),
    ],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...childEnv(), ...options.env, COORDINATOR_HOST: options.coordinatorHost },
    },
  );
  return new Proc(`initializer in ${pod.ns.name}`, child);
}
