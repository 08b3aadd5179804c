// contrast verify against real Coordinator processes (sim): what it writes, and how it says no.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Deployment, deploy, killCoordinator } from "./e2e-harness.js";
import { runBundle, tempDir } from "./helpers.js";

let a: Deployment;
let b: Deployment;

beforeAll(async () => {
  [a, b] = await Promise.all([deploy(join(tempDir(), "a")), deploy(join(tempDir(), "b"))]);
}, 180_000);
afterAll(async () => {
  await Promise.all([a, b].filter((d) => d !== undefined).map((d) => killCoordinator(d.coordinator)));
});

const json = (r: { stdout: string }) => JSON.parse(r.stdout);

describe("contrast verify", () => {
  it("writes the CAs, the history and the policies into verify/ (0755, files 0644) and says so in JSON", () => {
    const r = a.contrast("verify", "-c", a.coordinator.address, "-o", "json");
    expect(r.status, r.stderr).toBe(0);
    const doc = json(r);
    expect(doc).toMatchObject({ ok: true, coordinator: a.coordinator.address, historyLength: 1, warnings: [] });
    const dir = join(a.ws, "verify");
    expect(doc.directory).toBe(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o755);
    for (const f of readdirSync(dir)) expect(statSync(join(dir, f)).mode & 0o777, f).toBe(0o644);
    for (const p of doc.files.policies as string[]) {
      const hash = /policy\.([0-9a-f]{64})\.rego$/.exec(p)?.[1];
      expect(readFileSync(p, "utf8")).toMatch(/^package agent_policy/m);
      expect(hash).toBe(createHash("sha256").update(readFileSync(p)).digest("hex"));
    }
    expect(readFileSync(join(dir, "latest-transition"), "utf8")).toMatch(/^[0-9a-f]{64}$/);
  });

  it("looks up manifest.json and writes verify/ in --workspace-dir", () => {
    const elsewhere = tempDir();
    const r = runBundle(elsewhere, ["--workspace-dir", a.ws, "verify", "-c", a.coordinator.address, "-o", "json"]);
    expect(r.status, r.stdout).toBe(0);
    expect(json(r).directory).toBe(join(a.ws, "verify"));
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  it("exits 2 when the active manifest is not the local one (another manifest, same platform)", () => {
    const local = readFileSync(join(a.ws, "manifest.json"));
    try {
      writeFileSync(join(a.ws, "manifest.json"), local.toString().replace('"*"', '"other.example"'));
      const r = a.contrast("verify", "-c", a.coordinator.address, "-o", "json");
      expect(r.status).toBe(2);
      expect(json(r).error).toMatchObject({ code: "CLI_VERIFY_MANIFEST_MISMATCH", kind: "policy" });
      expect(json(r).error.details.historyLength).toBe(1);
      // The files are written anyway, for inspection.
      expect(readFileSync(join(a.ws, "verify/manifest.0.json"))).toEqual(local);
    } finally {
      writeFileSync(join(a.ws, "manifest.json"), local);
    }
  });

  it("refuses the Coordinator of another deployment: its simulated chain is not the one the manifest trusts", () => {
    const r = a.contrast("verify", "-c", b.coordinator.address, "-o", "json");
    // An ARK no reference value names is an untrusted anchor (kind crypto, exit 1), not a mismatch.
    expect(r.status).toBe(1);
    expect(json(r).error).toMatchObject({ code: "ATTESTATION_SIM_ANCHOR_NOT_TRUSTED", kind: "crypto" });
    expect(r.stdout).not.toContain("Successfully verified");
  });

  it("refuses a Coordinator whose policy hash is not --coordinator-policy-hash, with upstream's hint", () => {
    const r = a.contrast("verify", "-c", a.coordinator.address, "--coordinator-policy-hash", "ab".repeat(32));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("[ATLS_HOST_DATA_NOT_ALLOWED]");
    expect(r.stderr).toContain("did not match the expectations");
    expect(r.stderr).toContain("--coordinator-policy-hash");
  });

  it("tells an outdated local manifest (still in the history) from a foreign one", () => {
    const v1 = readFileSync(join(b.ws, "manifest.json"));
    b.generate("v2");
    expect(b.contrast("set", "-c", b.coordinator.address, "app.yaml").status).toBe(0);
    writeFileSync(join(b.ws, "manifest.json"), v1);
    const r = b.contrast("verify", "-c", b.coordinator.address, "-o", "json");
    expect(r.status).toBe(2);
    expect(json(r).error).toMatchObject({
      code: "CLI_VERIFY_MANIFEST_OUTDATED",
      details: { indexInHistory: 0, historyLength: 2 },
    });
  });
});
