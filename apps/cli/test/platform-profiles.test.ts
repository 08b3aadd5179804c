import { PLATFORMS } from "@contrast/manifest";
import { policyProfile, policyProfiles } from "@contrast/policy";
import { describe, expect, it } from "vitest";
import { cli } from "./helpers.js";

describe("platform profiles in the CLI", () => {
  it("every platform --reference-values knows has a policy profile of the same name", () => {
    for (const platform of PLATFORMS) {
      const profile = policyProfile(platform.id);
      expect(profile.name, platform.id).toBe(platform.name);
      expect(profile.flavour === "microsoft", platform.id).toBe(platform.genpolicy === "microsoft");
    }
    // The only profile without a platform is stock Kata, kept for genpolicy parity.
    const extra = policyProfiles().filter((p) => !PLATFORMS.some((q) => q.id === p.id));
    expect(extra.map((p) => p.id)).toEqual(["kata"]);
  });

  it("policy generate refuses an unknown --platform before reading any image", async () => {
    const r = await cli(["policy", "generate", "--platform", "metal-qemu-sev", "testdata/kube/k8s-website"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("POLICY_PLATFORM_UNKNOWN");
    expect(r.stderr).toContain("metal-qemu-snp");
  });
});
