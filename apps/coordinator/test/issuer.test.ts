import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSimulatedAuthority } from "@contrast/attestation/testing";
import { manualClock, noopLogger } from "@contrast/core";
import { afterAll, describe, expect, it } from "vitest";
import { openSimAuthority, SIM_AUTHORITY_FILE, withCachedCrl } from "../src/issuer.js";

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
