import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_POLICY_PLATFORM,
  explainDenial,
  PolicyError,
  policyProfile,
  policyProfiles,
  settingsToJson,
} from "../src/index.js";

/**
 * Version pinning: each profile's facts, modelled upstream versions and settings digest are
 * recorded in profile-pins.json. Changing a profile's facts without updating the record (and the
 * docs that name them, docs/platform-profiles.md) fails here. Refresh deliberately with
 * UPDATE_PROFILE_PINS=1.
 */
const PINS = new URL("./profile-pins.json", import.meta.url);

function pinOf(id: string) {
  const p = policyProfile(id);
  return {
    name: p.name,
    flavour: p.flavour,
    upstream: p.upstream,
    facts: p.facts.map((f) => f.id),
    annotation: p.annotation,
    tarfs: p.tarfs,
    runtime: p.runtime,
    settingsSha256: createHash("sha256").update(settingsToJson(p.settings)).digest("hex"),
    rulesSha256: createHash("sha256").update(p.rules).digest("hex"),
  };
}

describe("platform profiles", () => {
  const current = Object.fromEntries(policyProfiles().map((p) => [p.id, pinOf(p.id)]));
  if (process.env.UPDATE_PROFILE_PINS === "1") writeFileSync(PINS, `${JSON.stringify(current, null, 2)}\n`);
  const pinned = JSON.parse(readFileSync(PINS, "utf8")) as Record<string, unknown>;

  it("has a profile for every recorded platform and no other", () => {
    expect(Object.keys(current).sort()).toEqual(Object.keys(pinned).sort());
  });

  for (const id of Object.keys(current)) {
    it(`${id}: facts, upstream versions and settings match the pinned record`, () => {
      expect(current[id]).toEqual(pinned[id]);
    });
  }

  it("every fact has an id, a summary and a primary source, and ids are unique per profile", () => {
    for (const p of policyProfiles()) {
      const ids = p.facts.map((f) => f.id);
      expect(new Set(ids).size, p.id).toBe(ids.length);
      for (const f of p.facts) {
        expect(f.id, p.id).toMatch(/^[a-z0-9][a-z0-9-]*$/);
        expect(f.summary.length, `${p.id}/${f.id}`).toBeGreaterThan(10);
        expect(f.source, `${p.id}/${f.id}`).toMatch(/\//);
      }
    }
  });

  it("looks profiles up by id or canonical name, case-insensitively", () => {
    expect(policyProfile("Metal-QEMU-SNP").id).toBe("metal-qemu-snp");
    expect(policyProfile(" aks-clh-snp ").name).toBe("AKS-CLH-SNP");
    expect(policyProfile().id).toBe(DEFAULT_POLICY_PLATFORM);
  });

  it("refuses an unknown platform with a code and the list of known ones", () => {
    try {
      policyProfile("metal-qemu-sev");
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(PolicyError);
      expect((e as PolicyError).code).toBe("POLICY_PLATFORM_UNKNOWN");
      expect((e as PolicyError).hint).toContain("metal-qemu-snp");
    }
  });

  it("stock Kata's profile is the base settings unchanged", () => {
    expect(policyProfile("kata").facts).toEqual([]);
    expect(settingsToJson(policyProfile("kata").settings)).toBe(
      readFileSync(new URL("../../../testdata/genpolicy/genpolicy-settings.json", import.meta.url), "utf8"),
    );
  });

  it("a request the platform's settings switch off is explained by that switch", () => {
    const kata = { request_defaults: policyProfile("kata").settings.request_defaults };
    expect(explainDenial(kata, "ReadStreamRequest", { container_id: "c" }).map((r) => r.message)).toEqual([
      "ReadStreamRequest is not allowed: the policy's settings set request_defaults.ReadStreamRequest to false",
    ]);
    const qemu = { request_defaults: policyProfile("metal-qemu-snp").settings.request_defaults };
    expect(explainDenial(qemu, "AddARPNeighborsRequest", {})[0]?.field).toBe("request_defaults.AddARPNeighborsRequest");
    // A boolean switch left out is no accusation: Kata's older rules allow those by default.
    expect(explainDenial({ request_defaults: {} }, "UpdateEphemeralMountsRequest", {})[0]?.field).toBe("request");
  });
});
