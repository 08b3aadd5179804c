// The built service-mesh program as a child process with its JSON log lines, and mesh
// credentials issued by the real Coordinator CA code (@contrast/mesh-pki), written as the
// initializer writes them.
import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { systemClock } from "@contrast/core";
import { CoordinatorCa, cryptoRandom, generateSeed, SeedEngine } from "@contrast/mesh-pki";
import { type LoggedProcess, startBundle } from "@contrast/testkit";

export const BUNDLE = join(dirname(fileURLToPath(import.meta.url)), "../dist/service-mesh.cjs");

export type Running = LoggedProcess;

export function startProxy(args: readonly string[], env: Record<string, string> = {}): Running {
  return startBundle(BUNDLE, args, env);
}

export interface WorkloadFiles {
  readonly dir: string;
  readonly certChain: string;
  readonly key: string;
  readonly meshCa: string;
}

/** A Coordinator CA of a fresh deployment (mesh-pki), issuing workload credentials. */
export class Deployment {
  readonly ca: CoordinatorCa;
  constructor() {
    const { seed, salt } = generateSeed(cryptoRandom);
    this.ca = CoordinatorCa.create(SeedEngine.fromSeed(seed, salt), { clock: systemClock, random: cryptoRandom });
  }

  /** Issues a workload's certificate and writes tls-config/ as the initializer does. */
  workload(dir: string, name: string): WorkloadFiles {
    const key = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const leaf = this.ca.issueLeaf({ publicKey: key.publicKey, sans: [name] });
    const files = {
      dir,
      certChain: leaf.certChainPem,
      key: key.privateKey.export({ type: "pkcs8", format: "pem" }) as string,
      meshCa: this.ca.meshCaPem,
    };
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "certChain.pem"), files.certChain);
    writeFileSync(join(dir, "key.pem"), files.key, { mode: 0o600 });
    writeFileSync(join(dir, "mesh-ca.pem"), files.meshCa);
    writeFileSync(join(dir, "coordinator-root-ca.pem"), this.ca.rootCaPem);
    return files;
  }
}
