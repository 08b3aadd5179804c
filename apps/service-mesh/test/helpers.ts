// The built service-mesh program as a child process with its JSON log lines, and mesh
// credentials issued by the real Coordinator CA code (@contrast/mesh-pki), written as the
// initializer writes them.
import { type ChildProcess, spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { systemClock } from "@contrast/core";
import { CoordinatorCa, cryptoRandom, generateSeed, SeedEngine } from "@contrast/mesh-pki";

export const BUNDLE = join(dirname(fileURLToPath(import.meta.url)), "../dist/service-mesh.cjs");

export type LogLine = Record<string, unknown> & { msg: string; level: string };

export interface Running {
  readonly proc: ChildProcess;
  readonly logs: LogLine[];
  readonly exited: Promise<number | string>;
  waitFor(match: (line: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
}

export function startProxy(args: readonly string[], env: Record<string, string> = {}): Running {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run pnpm build`);
  const proc = spawn(process.execPath, [BUNDLE, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { PATH: process.env.PATH ?? "", ...env },
  });
  const logs: LogLine[] = [];
  const waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  let buffer = "";
  proc.stderr?.setEncoding("utf8");
  proc.stderr?.on("data", (chunk: string) => {
    buffer += chunk;
    for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
      const text = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { level: "RAW", msg: text };
      }
      logs.push(line);
      for (const w of waiters.filter((x) => x.match(line))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  proc.stdout?.resume();
  const exited = new Promise<number | string>((resolve) =>
    proc.on("exit", (code, signal) => resolve(code ?? signal ?? "unknown")),
  );
  const dump = () => logs.map((l) => JSON.stringify(l)).join("\n");
  return {
    proc,
    logs,
    exited,
    waitFor(match, what, timeoutMs = 30_000) {
      const seen = logs.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no log line ${what} within ${timeoutMs} ms:\n${dump()}`)),
          timeoutMs,
        );
        waiters.push({
          match,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`the process exited (${code}) before logging ${what}:\n${dump()}`));
        });
      });
    },
  };
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
