// What the podman tests do outside the containers: the user's side with the built CLI (generate on
// the sim platform, set), the Coordinator's probe port over HTTP, and an upstream app for the mesh.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { get } from "node:http";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { repoPath } from "@contrast/testkit";

export const CLI_BUNDLE = repoPath("apps/cli/dist/contrast.cjs");

/** An image the workloads name; its metadata comes from a file (docs/image-metadata.md), no registry. */
const PAUSE = "registry.k8s.io/pause:3.6@sha256:3d380ca8864549e74af4b29c10f9cb0956236dfb01c40ca076fb6c37253234db";
const PAUSE_METADATA = {
  schema: "contrast.image-metadata/v1",
  images: {
    [PAUSE]: {
      digest: PAUSE.split("@")[1],
      platform: { os: "linux", architecture: "amd64" },
      config: { User: "65535:65535", Entrypoint: ["/pause"] },
      layers: [{ diffId: `sha256:${"1".repeat(64)}`, verityHash: "2".repeat(64) }],
    },
  },
};

const deployment = (name: string) => `apiVersion: apps/v1
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
          image: ${PAUSE}
          resources:
            limits: {memory: 64Mi}
            requests: {memory: 64Mi}
`;

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A user's workspace: two confidential Deployments (web, db) and the built CLI run in it. */
export class Workspace {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "app.yaml"), `${deployment("web")}---\n${deployment("db")}`);
    writeFileSync(join(dir, "images.json"), JSON.stringify(PAUSE_METADATA));
  }

  /** The built CLI, as a user runs it (its own node process, HOME in the workspace, no colour). */
  contrast(...args: string[]): CliResult {
    const r = spawnSync(process.execPath, [CLI_BUNDLE, ...args], {
      cwd: this.dir,
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "", HOME: this.dir, NO_COLOR: "1" },
      timeout: 240_000,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /**
   * `contrast generate` for the sim platform against the Coordinator's sim directory (no sidecars
   * injected: the workloads never run here); resolves with each workload's policy hash by name.
   */
  generate(simDir: string): Map<string, string> {
    const r = this.contrast(
      "generate",
      "--reference-values",
      "sim",
      "--sim-dir",
      simDir,
      "--image-metadata",
      "images.json",
      "--skip-initializer",
      "--skip-service-mesh",
      "app.yaml",
      "-o",
      "json",
    );
    if (r.status !== 0) throw new Error(`contrast generate failed (${r.status}):\n${r.stdout}${r.stderr}`);
    const doc = JSON.parse(r.stdout) as { workloads: { name: string; hash: string }[] };
    return new Map(doc.workloads.map((w) => [w.name, w.hash]));
  }
}

/**
 * GET on the Coordinator's probe port, as the kubelet does: a fresh connection each time (a pooled
 * one may meet the server's keep-alive timeout). The status and the body.
 */
export function probe(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get({ host: "127.0.0.1", port, path, agent: false, timeout: 10_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on("error", reject);
  });
}

/** Polls `check` until it holds or the time is up; the last value either way. */
export async function until<T>(what: () => Promise<T>, check: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await what();
    if (check(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The app behind the mesh proxy: answers each connection's first data with `app:` and that data. */
export async function echoApp(): Promise<{ server: Server; port: number; connections: () => number }> {
  let count = 0;
  const server = createServer((s) => {
    count++;
    s.once("data", (d) => s.end(`app:${d.toString()}`));
    s.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { server, port: address.port, connections: () => count };
}
