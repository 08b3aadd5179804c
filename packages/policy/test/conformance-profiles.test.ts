import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { policyProfiles } from "../src/index.js";
import { type CaseResult, caseDirs, runCase } from "./conformance.js";

/**
 * Kata's conformance tables under every platform profile. The tables' requests were recorded
 * from stock Kata's runtime, so they apply to a profile only in part:
 *
 * - every request the tables deny must stay denied under every profile: no platform loosens a
 *   check Kata's tables test;
 * - an allowed request a profile denies is one that profile's runtime sends differently (an
 *   encrypted block emptyDir instead of a shared directory, no guest-pull storage, an ARP request
 *   Kata 3.13 has no rule for, the fork's OCI version...): each denial's reason must name one of
 *   the profile's facts (EXPLAINED_BY), or follow from an earlier denial of the same case. They
 *   are pinned per profile with that reason in conformance-profiles.json, so a change shows here.
 *   Refresh deliberately with UPDATE_CONFORMANCE_PROFILES=1.
 */
const PINS = new URL("./conformance-profiles.json", import.meta.url);

/** Which profile fact explains a denial reason; every denial must be explained by one. */
const EXPLAINED_BY: readonly [RegExp, readonly string[]][] = [
  [/OCI version: policy "1\.1\.0-rc\.1", request "1\.1\.0"/, ["oci-version-1-1-0-rc1"]],
  [/no image_guest_pull storage/, ["guest-pull-required"]],
  [/mount \S+: type "bind", policy "local"/, ["emptydir-shared-fs", "emptydir-shared-local"]],
  [/^AddARPNeighborsRequest is not allowed/, ["arp-neighbors-denied"]],
];
/** A denial that follows from an earlier one of the same case (its container was refused). */
const CONSEQUENCE = /^ExecProcessRequest is denied by the policy; no single field explains it/;
type Pinned = Record<string, { agree: string; denied: Record<string, string> }>;

describe("Kata's conformance tables under each platform profile", () => {
  const results = new Map<string, CaseResult[]>();
  const pinned = JSON.parse(readFileSync(PINS, "utf8")) as Pinned;
  const current: Pinned = {};

  for (const profile of policyProfiles()) {
    it(`${profile.id}: no request the tables deny is allowed; the allowed ones it denies are the pinned ones`, async () => {
      const all: CaseResult[] = [];
      for (const dir of caseDirs()) all.push(...(await runCase(dir, undefined, profile.settings)));
      results.set(profile.id, all);
      const loosened = all.filter((r) => !r.expected && r.actual).map((r) => `${r.case}#${r.index} ${r.description}`);
      expect(loosened).toEqual([]);
      const denied = Object.fromEntries(
        all
          .filter((r) => r.expected && !r.actual)
          .map((r) => [`${r.case}#${r.index} ${r.kind}`, r.reasons[0] ?? "(no reason given)"]),
      );
      const facts = new Set(profile.facts.map((f) => f.id));
      const unexplained = all
        .filter((r) => r.expected && !r.actual)
        .filter((r) => {
          const reason = r.reasons[0] ?? "";
          if (CONSEQUENCE.test(reason))
            return !all.some((e) => e.case === r.case && e.index < r.index && e.expected && !e.actual);
          return !EXPLAINED_BY.some(([re, ids]) => re.test(reason) && ids.some((id) => facts.has(id)));
        })
        .map((r) => `${r.case}#${r.index}: ${r.reasons[0]}`);
      expect(unexplained).toEqual([]);
      const agree = all.filter((r) => r.expected === r.actual).length;
      current[profile.id] = { agree: `${agree}/${all.length}`, denied };
      process.stdout.write(`conformance under ${profile.id}: ${agree}/${all.length} agree\n`);
      if (process.env.UPDATE_CONFORMANCE_PROFILES === "1") return;
      expect(current[profile.id]).toEqual(pinned[profile.id]);
    }, 120_000);
  }

  it("stock Kata's profile agrees with the tables as the base conformance test requires", () => {
    const kata = results.get("kata") ?? [];
    expect(kata.length).toBe(108);
    if (process.env.UPDATE_CONFORMANCE_PROFILES === "1") {
      writeFileSync(PINS, `${JSON.stringify(current, null, 2)}\n`);
    }
  });
});
