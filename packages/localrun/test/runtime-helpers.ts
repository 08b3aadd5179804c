import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildImage, buildLayer, type LayerEntry, nodeLayoutFileSystem, writeOciLayout } from "@contrast/oci";
import type { PodToRun, RuntimeContainer, RuntimePodAdmission, RuntimeProbe, RuntimeVolume } from "../src/index.js";
import { unpackImage } from "../src/index.js";

export const TEST_IMAGE = "localhost/localrun-test/app:1";

const te = new TextEncoder();
const file = (path: string, text: string): LayerEntry => ({ type: "file", path, content: te.encode(text) });

/** Small programs the test containers run with the host's Node (bound at /usr/local/bin/node). */
const PROGRAMS: Record<string, string> = {
  // Answers every request with what the container sees: hostname, env, a file's contents.
  "/app/server.mjs": `
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
const read = (p) => { try { return readFileSync(p, "utf8"); } catch (e) { return "ERR " + e.code; } };
createServer((req, res) => {
  const body = { hostname: hostname(), env: process.env, cwd: process.cwd(), uid: process.getuid(),
    shared: read(process.env.READ_FILE ?? "/nonexistent"), hosts: read("/etc/hosts") };
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify(body));
}).listen(Number(process.env.PORT ?? 8080), "0.0.0.0", () => console.log("listening"));
`,
  // Fetches a URL and prints the body; exits 0 on a 200, else 1.
  "/app/get.mjs": `
const url = process.argv[2];
try {
  const res = await fetch(url);
  console.log("BODY " + (await res.text()));
  process.exit(res.status === 200 ? 0 : 1);
} catch (e) { console.log("FETCH-ERROR " + (e.cause?.code ?? e.message)); process.exit(1); }
`,
  // Writes argv[3] into argv[2] (appending), then exits with argv[4] (default 0).
  "/app/write.mjs": `
import { appendFileSync } from "node:fs";
appendFileSync(process.argv[2], process.argv[3] + "\\n");
console.log("wrote " + process.argv[2]);
process.exit(Number(process.argv[4] ?? 0));
`,
  // Prints its environment and working directory as JSON, then exits with argv[2].
  "/app/env.mjs": `
import { readFileSync } from "node:fs";
const capBnd = /CapBnd:\\s*(\\w+)/.exec(readFileSync("/proc/self/status", "utf8"))[1];
console.log("ENV " + JSON.stringify({ env: process.env, cwd: process.cwd(), uid: process.getuid(), gid: process.getgid(), capBnd }));
process.exit(Number(process.argv[2] ?? 0));
`,
};

/** Builds an OCI layout with one image (two layers: the second removes a file of the first). */
export async function buildTestLayout(dir: string): Promise<void> {
  const base = buildLayer([
    { type: "directory", path: "/app" },
    ...Object.entries(PROGRAMS).map(([p, t]) => file(p, t)),
    file("/app/removed-later.txt", "gone"),
    { type: "directory", path: "/etc" },
    file("/etc/image-marker", "from the image"),
    { type: "symlink", path: "/app/link", target: "server.mjs" },
  ]);
  const top = buildLayer([file("/app/.wh.removed-later.txt", ""), file("/app/top.txt", "top layer")]);
  const image = buildImage({ layers: [base, top], config: { entrypoint: ["/usr/local/bin/node"], workdir: "/app" } });
  await writeOciLayout(nodeLayoutFileSystem, dir, [{ name: TEST_IMAGE, image }]);
}

export function scratchDir(label: string): { readonly path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `localrun-${label}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function container(
  name: string,
  args: readonly string[],
  extra: Partial<RuntimeContainer> = {},
): RuntimeContainer {
  return {
    name,
    role: "main",
    image: TEST_IMAGE,
    args: ["/usr/local/bin/node", ...args],
    env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=ignored"],
    cwd: "/app",
    user: { uid: 0, gid: 0 },
    volumeMounts: [],
    probes: [],
    restartPolicy: "Always",
    ...extra,
  };
}

export function admission(
  hostname: string,
  containers: readonly RuntimeContainer[],
  extra: {
    labels?: Record<string, string>;
    volumes?: readonly RuntimeVolume[];
    denial?: RuntimePodAdmission["denial"];
  } = {},
): RuntimePodAdmission {
  return {
    allowed: extra.denial === undefined,
    containers,
    volumes: extra.volumes ?? [],
    labels: extra.labels ?? {},
    hostname,
    ...(extra.denial === undefined ? {} : { denial: extra.denial }),
  };
}

export function podToRun(
  workDir: string,
  layoutDir: string,
  name: string,
  adm: RuntimePodAdmission,
  extra: Partial<PodToRun> = {},
): PodToRun {
  return {
    name,
    namespace: "default",
    admission: adm,
    rootfsFor: (image) => unpackImage(layoutDir, image, `${workDir}/images/${image.replace(/[^a-z0-9.]+/g, "_")}`),
    vmEnv: {},
    claimDir: (claim) => `${workDir}/claims/${claim}`,
    ...extra,
  };
}

/** A readiness probe: HTTP GET / on the port, every second. */
export function httpReady(port: number): RuntimeProbe {
  return {
    type: "readiness",
    action: { kind: "httpGet", port, path: "/", scheme: "HTTP" },
    initialDelaySeconds: 0,
    periodSeconds: 1,
    timeoutSeconds: 2,
    successThreshold: 1,
    failureThreshold: 3,
  };
}
