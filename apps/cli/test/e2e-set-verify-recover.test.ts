// Issue 15's end-to-end workflow with the built CLI and a real Coordinator process on the simulated
// TEE, on upstream's emojivoto demo: generate, set, verify, change a resource and generate again,
// set without the owner key (refused with the hint) and with it (accepted), SIGKILL and restart
// the Coordinator, verify in recovery mode, recover, verify with the same history.
import { X509Certificate } from "node:crypto";
import { readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { killCoordinator, type RunningCoordinator, startCoordinator } from "./e2e-harness.js";
import { emojivotoWorkspace } from "./generate-helpers.js";
import { runBundle } from "./helpers.js";

const ws = emojivotoWorkspace();
const stateDir = join(ws, "state");
const simDir = join(ws, "sim");
let coordinator: RunningCoordinator;

interface Envelope {
  ok: boolean;
  error?: { code: string; kind: string; hint: string };
  warnings: { code?: string }[];
  [field: string]: unknown;
}
const contrast = (...args: string[]) => runBundle(ws, args);
const json = (r: { stdout: string }) => JSON.parse(r.stdout) as Envelope;
const generate = () => {
  const r = contrast(
    "generate",
    "--reference-values",
    "sim",
    "--sim-dir",
    simDir,
    "--image-metadata",
    "images.json",
    "resources/",
    "-o",
    "json",
  );
  expect(r.status, r.stdout + r.stderr).toBe(0);
  return json(r);
};
const verifyFiles = () => readdirSync(join(ws, "verify")).sort();
const history = () =>
  verifyFiles()
    .filter((f) => f.startsWith("manifest."))
    .map((f) => readFileSync(join(ws, "verify", f)));

beforeAll(async () => {
  coordinator = await startCoordinator(stateDir, simDir);
}, 120_000);
afterAll(async () => {
  if (coordinator !== undefined) await killCoordinator(coordinator);
});

describe("the operator's workflow on emojivoto (generate → set → verify → update → crash → recover)", () => {
  let before: Buffer[] = [];

  it("1: generate names the Coordinator's simulated TEE and the three confidential Deployments", () => {
    const doc = generate();
    expect((doc.workloads as unknown[]).length).toBe(3);
    const manifest = JSON.parse(readFileSync(join(ws, "manifest.json"), "utf8"));
    expect(Object.keys(manifest.Policies)).toHaveLength(3);
    expect(manifest.ReferenceValues.sim).toHaveLength(1);
  });

  it("2: set attests the Coordinator, sets the manifest and writes the CAs and the seed shares", () => {
    const r = contrast("set", "-c", coordinator.address, "resources/", "-o", "json");
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(json(r)).toMatchObject({ ok: true, policies: 3, warnings: [] });
    for (const f of ["coordinator-root-ca.pem", "mesh-ca.pem"]) {
      expect(readFileSync(join(ws, f), "utf8")).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
    }
    const shares = JSON.parse(readFileSync(join(ws, "seed-shares.json"), "utf8"));
    expect(shares.SeedShares).toHaveLength(1);
    expect(Buffer.from(shares.salt, "base64")).toHaveLength(32);
    expect(statSync(join(ws, "seed-shares.json")).mode & 0o777).toBe(0o600);
  });

  it("3: verify writes verify/ with the history and the policies, and the active manifest is ours", () => {
    const r = contrast("verify", "-c", coordinator.address);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("Manifest active at Coordinator matches expected manifest");
    expect(verifyFiles().filter((f) => f.startsWith("policy."))).toHaveLength(3);
    expect(history()).toEqual([readFileSync(join(ws, "manifest.json"))]);
    expect(readFileSync(join(ws, "verify/mesh-ca.pem"))).toEqual(readFileSync(join(ws, "mesh-ca.pem")));
  });

  it("4-5: a changed resource is generated again; set refuses it without the owner key and accepts it with", () => {
    const web = join(ws, "resources/web.yml");
    writeFileSync(web, readFileSync(web, "utf8").replace('value: "8080"', 'value: "8081"'));
    const first = readFileSync(join(ws, "manifest.json"));
    generate();
    expect(readFileSync(join(ws, "manifest.json"))).not.toEqual(first);

    renameSync(join(ws, "workload-owner.pem"), join(ws, "owner-key.pem"));
    const denied = contrast("set", "-c", coordinator.address, "resources/", "-o", "json");
    expect(denied.status).toBe(2);
    expect(json(denied).error).toMatchObject({
      code: "COORDINATOR_UPDATE_UNAUTHORIZED",
      kind: "policy",
      hint: "Specify a workload owner key with --workload-owner-key.",
    });
    expect(json(denied).warnings.map((w) => w.code)).toEqual(["CLI_WORKLOAD_OWNER_KEY_MISSING"]);
    // In text, the hint is printed under the error.
    const text = contrast("set", "-c", coordinator.address, "resources/");
    expect(text.stderr).toContain("Hint: Specify a workload owner key with --workload-owner-key.");

    const r = contrast("set", "-c", coordinator.address, "resources/", "--workload-owner-key", "owner-key.pem");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("Manifest set successfully");
    expect(r.stdout).not.toContain("Seed shares received");

    const v = contrast("verify", "-c", coordinator.address);
    expect(v.status, v.stderr).toBe(0);
    before = history();
    expect(before).toEqual([first, readFileSync(join(ws, "manifest.json"))]);
  });

  it("6-7: after SIGKILL and a restart, verify fails with the recovery-mode code and names recover", async () => {
    await killCoordinator(coordinator);
    coordinator = await startCoordinator(stateDir, simDir);
    const r = contrast("verify", "-c", coordinator.address, "-o", "json");
    expect(r.status).toBe(1);
    expect(json(r).error?.code).toBe("COORDINATOR_IN_RECOVERY");
    expect(json(r).error?.hint).toContain("`contrast recover");
  }, 120_000);

  it("8-9: recover with the seed share; verify then succeeds with the same history", () => {
    const r = contrast("recover", "-c", coordinator.address);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("Successfully recovered the Coordinator");
    const v = contrast("verify", "-c", coordinator.address);
    expect(v.status, v.stderr).toBe(0);
    expect(history()).toEqual(before);
    // The root CA's key is derived from the seed: the same key after recovery (a new certificate).
    const rootKey = (f: string) =>
      new X509Certificate(readFileSync(join(ws, f))).publicKey.export({ type: "spki", format: "der" });
    expect(rootKey("verify/coordinator-root-ca.pem")).toEqual(rootKey("coordinator-root-ca.pem"));
  });
});
