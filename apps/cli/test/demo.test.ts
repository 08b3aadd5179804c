// Issue 18's end-to-end test: the built CLI's `contrast demo`, non-interactive, as root (as CI
// runs), every step checked through its JSON details: the tamper and the recovery included, then
// that nothing of the demo is left running. A second run is stopped with SIGINT half-way and must
// clean up the same way. The demo's pieces have their own tests (demo-parts.test.ts, and
// packages/localrun for the runtime and admission).
import { type SpawnOptions, spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUNDLE, runBundle, tempDir } from "./helpers.js";

const root = process.getuid?.() === 0;
const tools = ["unshare", "nsenter", "ip", "iptables"].filter(
  (t) => spawnSync("sh", ["-c", `command -v ${t}`]).status !== 0,
);
const skipReason = !root
  ? "the demo's e2e test runs as root, as CI does (without root the demo re-executes itself in a user namespace)"
  : tools.length > 0
    ? `missing ${tools.join(", ")}`
    : undefined;
const skipped = skipReason === undefined ? "" : ` (skipped: ${skipReason})`;

interface Step {
  step: string;
  ok: boolean;
  details: Record<string, unknown>;
}
interface Document {
  ok: boolean;
  dir: string;
  rootless: boolean;
  coordinator: string;
  wallSeconds: number;
  steps: Step[];
  error?: { code: string; message: string; hint: string; details?: { steps?: Step[] } };
}

/**
 * Processes whose command line, working directory or root lies in `dir`: what a clean-up must
 * leave none of. `dir` is the directory the demo was started in, which the runtime's holder
 * processes inherit as their working directory; containers have their root under it.
 */
function processesIn(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    if (Number(pid) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
      const where = [readlinkSafe(`/proc/${pid}/cwd`), readlinkSafe(`/proc/${pid}/root`)];
      if (cmdline.includes(dir) || where.some((w) => w?.startsWith(dir))) found.push(`${pid} ${cmdline.trim()}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function readlinkSafe(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

/** Addresses of this (the host's) network namespace inside the demo's pod network. */
function addressesIn(subnet: string): string[] {
  const prefix = subnet.replace(/\.0\/24$/, ".");
  const out = spawnSync("ip", ["-4", "-o", "addr", "show"], { encoding: "utf8" }).stdout;
  return out.split("\n").filter((l) => l.includes(` ${prefix}`));
}

/** Runs a process to its end: a child, not spawnSync, so the test's own event loop stays free meanwhile. */
async function runToEnd(
  command: string,
  args: readonly string[],
  options: SpawnOptions,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(command, [...args], { ...options, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const status = await new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return { status, stdout, stderr };
}

describe.skipIf(skipReason !== undefined)(`contrast demo, end to end${skipped}`, () => {
  const cwd = tempDir();
  const dir = join(cwd, "contrast-demo");
  let doc: Document;
  let stderr = "";
  /** A step's details, typed as the test reads them. */
  const step = <T = Record<string, unknown>>(name: string): T => {
    const s = doc.steps.find((x) => x.step === name);
    if (s === undefined) throw new Error(`no step ${name} in ${doc.steps.map((x) => x.step).join(", ")}`);
    return s.details as T;
  };

  beforeAll(async () => {
    const run = await runToEnd(
      process.execPath,
      [BUNDLE, "demo", "--non-interactive", "-o", "json", "--step-timeout", "240"],
      { cwd, env: { ...process.env, NO_COLOR: "1" } },
    );
    const status = run.status;
    stderr += run.stderr;
    doc = JSON.parse(run.stdout) as Document;
    if (status !== 0) {
      const failed = doc.error?.details?.steps?.at(-1);
      throw new Error(
        `contrast demo exited ${status}: ${JSON.stringify(doc.error, (k, v) => (k === "steps" ? undefined : v))}\nfailed step: ${JSON.stringify(failed)}\n${stderr}`,
      );
    }
  }, 900_000);
  afterAll(() => {
    // Whatever happened, nothing may keep running.
    expect(processesIn(cwd)).toEqual([]);
  });

  it("runs every step of the issue in order, on the demo's own directory, as root", () => {
    expect(doc.ok).toBe(true);
    expect(doc.rootless).toBe(false);
    expect(doc.dir).toBe(dir);
    expect(doc.steps.map((s) => [s.step, s.ok])).toEqual(
      [
        "app",
        "generate",
        "cluster",
        "coordinator",
        "workloads",
        "set",
        "certificates",
        "verify",
        "mesh",
        "refused",
        "tamper",
        "restart",
        "recover",
        "verify-again",
        "new-certificates",
        "cleanup",
      ].map((s) => [s, true]),
    );
    expect(doc.wallSeconds).toBeGreaterThan(0);
  });

  it("generates a policy per pod, the Coordinator's with role coordinator, and its simulated TEE reports that hash", () => {
    const { policies } = step("generate") as { policies: { hash: string; role: string; sans: string[] }[] };
    expect(policies).toHaveLength(3);
    const coordinator = policies.find((p) => p.role === "coordinator");
    expect(coordinator?.sans).toContain("coordinator");
    expect(step("coordinator")).toMatchObject({ pod: "coordinator-0", policyHash: coordinator?.hash });
    const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
    expect(Object.keys(manifest.Policies).sort()).toEqual(policies.map((p) => p.hash).sort());
    expect(manifest.ReferenceValues.sim).toHaveLength(1);
    expect(doc.coordinator).toBe(`${step<{ ip: string }>("coordinator").ip}:1313`);
  });

  it("starts the workloads whose initializers wait until set; then they get certificates and become ready", () => {
    const { pods, waiting } = step("workloads") as { pods: { pod: string; policyHash: string }[]; waiting: string[] };
    expect(pods.map((p) => p.pod.split("-")[0])).toEqual(["backend", "frontend"]);
    expect(waiting).toEqual(["running", "running"]);
    expect(step("set")).toMatchObject({ policies: 3 });
    expect(existsSync(join(dir, "seed-shares.json"))).toBe(true);
    const ready = step("certificates") as { pods: { status: { ready: boolean; initialized: boolean } }[] };
    expect(ready.pods.map((p) => [p.status.initialized, p.status.ready])).toEqual([
      [true, true],
      [true, true],
    ]);
  });

  it("verify writes the Coordinator's CAs, manifest history and policies", () => {
    expect(step("verify")).toMatchObject({ historyLength: 1 });
    const files = readdirSync(join(dir, "verify")).sort();
    expect(files.filter((f) => f.startsWith("policy."))).toHaveLength(3);
    expect(files).toContain("manifest.0.json");
    expect(files).toContain("mesh-ca.pem");
  });

  it("a request through the mesh reaches the backend; one without a mesh certificate is refused", () => {
    const mesh = step("mesh") as { status: number; body: string; server: { issuer: string } };
    expect(mesh.status).toBe(200);
    const body = JSON.parse(mesh.body);
    expect(body.service).toBe("frontend");
    expect(body.backend.service).toBe("backend");
    expect(mesh.server.issuer).toBe("system:coordinator:intermediate");
    expect(step("refused")).toMatchObject({ how: expect.any(String) });
  });

  it("blocks the tampered frontend by policy, with the reason contrast policy check gives too", () => {
    const t = step("tamper") as {
      phase: string;
      request: string;
      container: string;
      reasons: { field: string; message: string }[];
      file: string;
    };
    expect(t.phase).toBe("Blocked");
    expect(t.request).toBe("CreateContainerRequest");
    expect(t.container).toBe("frontend");
    expect(t.reasons.map((r) => r.message).join("\n")).toContain("BACKEND_URL");
    // The line the demo prints is true: the CLI explains the same denial offline.
    const r = runBundle(cwd, [
      "policy",
      "check",
      "--honest",
      "--platform",
      "sim",
      "--image-metadata",
      join(dir, "images/image-metadata.json"),
      t.file,
    ]);
    expect(r.status, r.stdout + r.stderr).toBe(2);
    expect(r.stdout).toContain("BACKEND_URL");
  });

  it("a killed Coordinator restarts in recovery mode; recover brings back the same history and a new mesh CA", () => {
    const restart = step("restart") as { restarts: number; readiness: { status: number; body: string } };
    expect(restart.restarts).toBeGreaterThanOrEqual(1);
    expect(restart.readiness.status).toBe(503);
    expect(restart.readiness.body).toContain("recover");
    expect(restart).toMatchObject({ verify: "COORDINATOR_IN_RECOVERY" });
    expect(step("verify-again")).toMatchObject({ historyLength: 1, sameRootKey: true, newMeshKey: true });
    expect(step<{ history: string[] }>("verify-again").history).toEqual(step<{ history: string[] }>("verify").history);
  });

  it("restarted workloads are new pods whose certificates chain to the new mesh CA only", () => {
    const n = step("new-certificates") as { pods: { pod: string }[]; status: number; oldMeshCa: string };
    const before = step<{ pods: { pod: string }[] }>("workloads").pods.map((p) => p.pod);
    expect(n.pods.map((p) => p.pod)).not.toEqual(before);
    expect(n.status).toBe(200);
    expect(n.oldMeshCa).not.toBe("accepted");
  });

  it("cleans up: no process of the demo, no address of its pod network on this side", () => {
    expect(processesIn(cwd)).toEqual([]);
    const { subnet } = step<{ subnet: string }>("cluster");
    expect(addressesIn(subnet)).toEqual([]);
    // The files stay.
    expect(existsSync(join(dir, "cluster/pods"))).toBe(true);
  });
});

describe.skipIf(skipReason !== undefined)(`contrast demo, stopped with Ctrl-C${skipped}`, () => {
  it("removes its processes and its pod network and exits 130 with CLI_DEMO_INTERRUPTED", async () => {
    const cwd = tempDir();
    const child = spawn(process.execPath, [BUNDLE, "demo", "--non-interactive", "--step-timeout", "240"], {
      cwd,
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let subnet: string | undefined;
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    // Interrupted once the workloads run: the Coordinator, two pods and their sidecars are up.
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (c: Buffer) => {
        stdout += c.toString();
        subnet ??= /pod network (\d+\.\d+\.\d+\.0\/24)/.exec(stdout)?.[1];
        if (/^✔ Workloads .* started/m.test(stdout)) resolve();
      });
      void exited.then(() => reject(new Error(`the demo ended before its workloads started:\n${stdout}\n${stderr}`)));
    });
    // The CLI, the node and pod holders, the Coordinator, initializers, sidecars and apps.
    expect(processesIn(cwd).length).toBeGreaterThan(5);
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    expect(stderr).toContain("[CLI_DEMO_INTERRUPTED]");
    expect(processesIn(cwd)).toEqual([]);
    expect(subnet).toBeDefined();
    expect(addressesIn(subnet as string)).toEqual([]);
  }, 600_000);
});

describe.skipIf(skipReason !== undefined)(`contrast demo --keep${skipped}`, () => {
  it("leaves the deployment running, prints commands that reach it, and cleans up on Ctrl-C with status 0", async () => {
    const cwd = tempDir();
    const child = spawn(process.execPath, [BUNDLE, "demo", "--keep", "--non-interactive", "--step-timeout", "240"], {
      cwd,
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (c: Buffer) => {
        stdout += c.toString();
        if (/^ {2}logs: /m.test(stdout)) resolve();
      });
      void exited.then(() => reject(new Error(`the demo ended before it kept running:\n${stdout}\n${stderr}`)));
    });
    // The printed curl, done with Node: the name it resolves, the mesh CA it trusts.
    const curl = / {2}curl --cacert (\S+) --resolve ([^:]+):(\d+):(\S+) https:\/\/\2:\3\//.exec(stdout);
    expect(curl, stdout).not.toBeNull();
    const [, caFile, name, port, ip] = curl as unknown as string[];
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(
        { host: ip, port: Number(port), servername: name, ca: readFileSync(join(cwd, caFile as string)), path: "/" },
        (res) => {
          let text = "";
          res.on("data", (c: Buffer) => {
            text += c.toString();
          });
          res.on("end", () => resolve(text));
        },
      );
      req.on("error", reject);
      req.end();
    });
    expect(JSON.parse(body).backend.service).toBe("backend");
    // The printed verify, with the printed CLI.
    const verify = / {2}node (\S+) verify -c (\S+) --workspace-dir (\S+)/.exec(stdout);
    expect(verify, stdout).not.toBeNull();
    const [, cliFile, address, workspace] = verify as unknown as string[];
    expect(cliFile).toBe(BUNDLE);
    const r = runBundle(cwd, ["verify", "-c", address as string, "--workspace-dir", workspace as string]);
    expect(r.status, r.stdout + r.stderr).toBe(0);

    child.kill("SIGINT");
    expect(await exited, stderr).toBe(0);
    expect(stdout).toMatch(/^✔ Cleaned up: /m);
    expect(processesIn(cwd)).toEqual([]);
  }, 600_000);
});

// Without root: the demo re-executes itself in an unprivileged user namespace. Run as `nobody`
// (setpriv), as a user without sudo would; skipped where the kernel refuses such namespaces.
const nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];
const usernsReason =
  skipReason ??
  (spawnSync(nobody[0] as string, [...nobody.slice(1), "unshare", "--user", "--map-root-user", "--net", "true"])
    .status !== 0
    ? "this kernel refuses unprivileged user namespaces (the demo then stops with CLI_DEMO_USERNS_UNAVAILABLE)"
    : spawnSync(nobody[0] as string, [...nobody.slice(1), process.execPath, BUNDLE, "--version"]).status !== 0
      ? "user nobody cannot read this checkout (a private home directory), so it cannot run the built CLI"
      : undefined);

describe.skipIf(usernsReason !== undefined)(
  `contrast demo without root${usernsReason === undefined ? "" : ` (skipped: ${usernsReason})`}`,
  () => {
    it("runs every step in a user namespace it creates, and leaves nothing behind", async () => {
      const cwd = tempDir();
      chmodSync(cwd, 0o777);
      const { status, stdout, stderr } = await runToEnd(
        nobody[0] as string,
        [
          ...nobody.slice(1),
          "env",
          `PATH=${process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin"}`,
          `HOME=${cwd}`,
          "NO_COLOR=1",
          process.execPath,
          BUNDLE,
          "demo",
          "--non-interactive",
          "-o",
          "json",
          "--step-timeout",
          "240",
        ],
        { cwd },
      );
      expect(status, stderr).toBe(0);
      const doc = JSON.parse(stdout) as Document;
      expect(doc.rootless).toBe(true);
      expect(doc.steps.every((s) => s.ok)).toBe(true);
      expect(doc.steps.map((s) => s.step)).toContain("tamper");
      const cluster = (doc.steps.find((s) => s.step === "cluster")?.details ?? {}) as { subnet?: string };
      expect(cluster).toMatchObject({ rootless: true, subnet: expect.any(String) });
      // Its pod network lived in the user namespace's own network namespace: never on this side.
      const subnet = cluster.subnet as string;
      expect(addressesIn(subnet)).toEqual([]);
      expect(processesIn(cwd)).toEqual([]);
    }, 900_000);
  },
);
