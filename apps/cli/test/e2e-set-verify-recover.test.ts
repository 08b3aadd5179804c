// The operator's workflow end to end, with the built CLI and a real Coordinator process on the
// simulated TEE: set, verify, an update with and without the owner key, a crash (SIGKILL), verify
// in recovery mode, recover, verify with the same history.
import { readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type GeneratedWorkload,
  IMAGE_METADATA,
  killCoordinator,
  manifestFor,
  type OwnerKeys,
  type RunningCoordinator,
  simArkDigest,
  startCoordinator,
  workloadsYaml,
  writeOwnerKeys,
} from "./e2e-harness.js";
import { runBundle, tempDir } from "./helpers.js";

const root = tempDir();
const stateDir = join(root, "state");
const simDir = join(root, "sim");
const ws = join(root, "workspace");
let coordinator: RunningCoordinator;
let keys: OwnerKeys;
let ark: string;

const contrast = (...args: string[]) => runBundle(ws, args);
const json = (r: { stdout: string }) =>
  JSON.parse(r.stdout) as Record<string, unknown> & { error?: { code: string; hint: string } };

/** `contrast policy generate` on the workspace's YAML, then the manifest for its workloads. */
function generate(env: string): void {
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
  expect(r.status, r.stderr).toBe(0);
  const workloads = json(r).workloads as GeneratedWorkload[];
  expect(workloads).toHaveLength(2);
  writeFileSync(
    join(ws, "manifest.json"),
    manifestFor(workloads, ark, { workloadOwners: [keys.workloadOwner], seedShareOwners: [keys.seedShareOwner] }),
  );
}

beforeAll(async () => {
  const { mkdirSync } = await import("node:fs");
  mkdirSync(ws);
  coordinator = await startCoordinator(stateDir, simDir);
  ark = await simArkDigest(simDir);
  keys = writeOwnerKeys(ws);
  writeFileSync(join(ws, "images.json"), IMAGE_METADATA);
}, 120_000);

afterAll(async () => {
  if (coordinator !== undefined) await killCoordinator(coordinator);
});

describe("set, verify, update, crash, recover (real Coordinator process, sim)", () => {
  let history: Buffer[] = [];

  it("1-2: sets the first manifest and writes the CAs and the seed shares", () => {
    generate("v1");
    const r = contrast("set", "-c", coordinator.address, "app.yaml", "-o", "json");
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const doc = json(r);
    expect(doc).toMatchObject({ ok: true, coordinator: coordinator.address, policies: 2, warnings: [] });
    expect(readFileSync(join(ws, "coordinator-root-ca.pem"), "utf8")).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(readFileSync(join(ws, "mesh-ca.pem"), "utf8")).toMatch(/^-----BEGIN CERTIFICATE-----/);
    const shares = JSON.parse(readFileSync(join(ws, "seed-shares.json"), "utf8"));
    expect(Object.keys(shares)).toEqual(["SeedShares", "salt"]);
    expect(shares.SeedShares).toHaveLength(1);
    expect(statSync(join(ws, "seed-shares.json")).mode & 0o777).toBe(0o600);
  });

  it("3: verify writes verify/ and confirms the active manifest", () => {
    const r = contrast("verify", "-c", coordinator.address);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("Manifest active at Coordinator matches expected manifest");
    const files = readdirSync(join(ws, "verify")).sort();
    expect(files.filter((f) => f.startsWith("manifest."))).toEqual(["manifest.0.json"]);
    expect(files.filter((f) => f.startsWith("policy.")).length).toBe(2);
    expect(files).toContain("coordinator-root-ca.pem");
    expect(readFileSync(join(ws, "verify/manifest.0.json"))).toEqual(readFileSync(join(ws, "manifest.json")));
    // The mesh CA served now is the one set wrote.
    expect(readFileSync(join(ws, "verify/mesh-ca.pem"))).toEqual(readFileSync(join(ws, "mesh-ca.pem")));
  });

  it("4-5: a changed resource, generated again, is set with the owner key and refused without it", () => {
    generate("v2");
    renameSync(join(ws, "workload-owner.pem"), join(ws, "owner.pem"));
    const denied = contrast("set", "-c", coordinator.address, "app.yaml", "-o", "json");
    expect(denied.status).toBe(2);
    const err = json(denied).error;
    expect(err?.code).toBe("COORDINATOR_UPDATE_UNAUTHORIZED");
    expect(err?.hint).toBe("Specify a workload owner key with --workload-owner-key.");
    expect((json(denied).warnings as { code: string }[]).map((w) => w.code)).toContain(
      "CLI_WORKLOAD_OWNER_KEY_MISSING",
    );

    const r = contrast("set", "-c", coordinator.address, "app.yaml", "--workload-owner-key", "owner.pem");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("Manifest set successfully");
    expect(r.stdout).not.toContain("Seed shares received");

    const v = contrast("verify", "-c", coordinator.address);
    expect(v.status, v.stderr).toBe(0);
    history = [0, 1].map((i) => readFileSync(join(ws, `verify/manifest.${i}.json`)));
    expect(history[1]).toEqual(readFileSync(join(ws, "manifest.json")));
  });

  it("6-7: after SIGKILL and a restart, verify fails with the recovery-mode code", async () => {
    await killCoordinator(coordinator);
    coordinator = await startCoordinator(stateDir, simDir);
    const r = contrast("verify", "-c", coordinator.address, "-o", "json");
    expect(r.status).toBe(1);
    expect(json(r).error?.code).toBe("COORDINATOR_IN_RECOVERY");
    expect(json(r).error?.hint).toContain("contrast recover");
  }, 120_000);

  it("8-9: recover with the seed share, then verify succeeds with the same history", () => {
    const r = contrast("recover", "-c", coordinator.address, "-o", "json");
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(json(r)).toMatchObject({ ok: true, force: false });
    const v = contrast("verify", "-c", coordinator.address);
    expect(v.status, v.stderr).toBe(0);
    expect(readdirSync(join(ws, "verify")).filter((f) => f.startsWith("manifest.")).length).toBe(2);
    expect([0, 1].map((i) => readFileSync(join(ws, `verify/manifest.${i}.json`)))).toEqual(history);
  });
});
