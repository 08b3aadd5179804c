// contrast recover against a real Coordinator process (sim): the wrong keys and files it refuses,
// and what the Coordinator refuses.
import { generateKeyPairSync } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeEcPrivateKey, encodeSeedShareOwnerKey } from "@contrast/mesh-pki";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Deployment, deploy, killCoordinator, startCoordinator } from "./e2e-harness.js";
import { tempDir } from "./helpers.js";

let d: Deployment;

beforeAll(async () => {
  d = await deploy(tempDir());
}, 120_000);
afterAll(async () => {
  if (d !== undefined) await killCoordinator(d.coordinator);
});

const json = (r: { stdout: string }) => JSON.parse(r.stdout);

describe("contrast recover", () => {
  it("is refused by a running Coordinator", () => {
    const r = d.contrast("recover", "-c", d.coordinator.address, "-o", "json");
    expect(r.status).toBe(1);
    expect(json(r).error.code).toBe("COORDINATOR_ALREADY_RECOVERED");
  });

  it("after a crash: set is refused, verify says recovery mode", async () => {
    await killCoordinator(d.coordinator);
    d.coordinator = await startCoordinator(d.stateDir, d.simDir);
    const set = d.contrast("set", "-c", d.coordinator.address, "app.yaml", "-o", "json");
    expect(json(set).error.code).toBe("COORDINATOR_IN_RECOVERY");
  }, 120_000);

  it("refuses a seed share owner key of the wrong type, naming the flag", () => {
    const ec = generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey;
    writeFileSync(join(d.ws, "ec.pem"), encodeEcPrivateKey(ec));
    const r = d.contrast("recover", "-c", d.coordinator.address, "--seedshare-owner-key", "ec.pem", "-o", "json");
    expect(r.status).toBe(1);
    expect(json(r).error.code).toBe("KEY_WRONG_TYPE");
    expect(json(r).error.hint).toContain("--seedshare-owner-key");
  });

  it("finds no share for another RSA key, and refuses a damaged share", () => {
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    writeFileSync(join(d.ws, "other.pem"), encodeSeedShareOwnerKey(other));
    const r = d.contrast("recover", "-c", d.coordinator.address, "--seedshare-owner-key", "other.pem", "-o", "json");
    expect(json(r).error.code).toBe("SEED_SHARE_NO_MATCH");

    const shares = JSON.parse(readFileSync(join(d.ws, "seed-shares.json"), "utf8"));
    const enc = Buffer.from(shares.SeedShares[0].EncryptedSeed, "base64");
    enc[10] = (enc[10] as number) ^ 1;
    shares.SeedShares[0].EncryptedSeed = enc.toString("base64");
    writeFileSync(join(d.ws, "tampered.json"), JSON.stringify(shares));
    const t = d.contrast("recover", "-c", d.coordinator.address, "--seed", "tampered.json", "-o", "json");
    expect(t.status).toBe(1);
    expect(json(t).error.kind).toBe("crypto");
  });

  it("recovers with the right share (--force passed through), and the Coordinator serves its history again", () => {
    const r = d.contrast("recover", "-c", d.coordinator.address, "--force", "-o", "json");
    expect(r.status, r.stdout).toBe(0);
    expect(json(r)).toMatchObject({ ok: true, force: true });
    const v = d.contrast("verify", "-c", d.coordinator.address);
    expect(v.status, v.stderr).toBe(0);
  });
});
