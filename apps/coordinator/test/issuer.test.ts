import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeSnpEvidence, parseSnpReport } from "@contrast/attestation";
import { createSimulatedAuthority } from "@contrast/attestation/testing";
import { manualClock, noopLogger, toHex } from "@contrast/core";
import { SIM_COORDINATOR_POLICY_HASH } from "@contrast/manifest";
import { afterAll, describe, expect, it } from "vitest";
import { parseCommandLine } from "../src/config.js";
import { openIssuer, openSimAuthority, SIM_AUTHORITY_FILE, withCachedCrl } from "../src/issuer.js";

const tmp = mkdtempSync(join(tmpdir(), "coordinator-issuer-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const clock = manualClock("2026-12-01T00:00:00Z");

describe("the simulated authority in the sim directory", () => {
  it("is created once (mode 0600), then loaded; concurrent openers agree on one", async () => {
    const dir = join(tmp, "sim");
    const [a, b, c] = await Promise.all([0, 1, 2].map(() => openSimAuthority(dir, { clock, log: noopLogger })));
    expect(new Set([a, b, c].map((x) => x?.arkKeyDigest)).size).toBe(1);
    expect(statSync(join(dir, SIM_AUTHORITY_FILE)).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual([SIM_AUTHORITY_FILE]); // no temporary files left
    const again = await openSimAuthority(dir, { clock, log: noopLogger });
    expect(again.arkKeyDigest).toBe(a?.arkKeyDigest);
  }, 60_000);
});

describe("withCachedCrl", () => {
  it("reuses one CRL for an hour, then makes a new one; a CRL revoking the ASK is never cached", () => {
    const authority = createSimulatedAuthority({ clock, rsaModulusLength: 2048 });
    const cached = withCachedCrl(authority);
    const now = clock.now();
    const first = cached.crl({ now });
    expect(cached.crl({ now: new Date(now.getTime() + 59 * 60_000) })).toBe(first);
    expect(cached.crl({ now: new Date(now.getTime() + 61 * 60_000) })).not.toBe(first);
    expect(cached.crl({ now, revokeAsk: true })).not.toBe(first);
    expect(cached.arkKeyDigest).toBe(authority.arkKeyDigest);
  });
});

describe("the sim issuer's HOST_DATA", () => {
  const hostDataOf = async (argv: string[], env: Record<string, string> = {}) => {
    const parsed = parseCommandLine(
      ["--platform", "sim", "--state-dir", "/s", "--sim-dir", join(tmp, "sim-hash"), ...argv],
      env,
      undefined,
      "0.0.0",
    );
    if (parsed.kind !== "run") throw new Error("expected a configuration");
    const issuer = await openIssuer(parsed.config, { clock, log: noopLogger });
    const evidence = decodeSnpEvidence(await issuer.issue(new Uint8Array(64).fill(7)));
    const report = parseSnpReport(evidence.report);
    expect(toHex(report.reportData)).toBe("07".repeat(64));
    return toHex(report.hostData);
  };

  it("is SIM_COORDINATOR_POLICY_HASH by default, else the flag's or CONTRAST_SIM_POLICY_HASH's hash", async () => {
    const mine = "ab".repeat(32);
    expect(await hostDataOf([])).toBe(SIM_COORDINATOR_POLICY_HASH);
    expect(await hostDataOf(["--sim-policy-hash", mine.toUpperCase()])).toBe(mine);
    expect(await hostDataOf([], { CONTRAST_SIM_POLICY_HASH: mine })).toBe(mine);
    expect(await hostDataOf(["--sim-policy-hash", "cd".repeat(32)], { CONTRAST_SIM_POLICY_HASH: mine })).toBe(
      "cd".repeat(32),
    );
  }, 60_000);
});
