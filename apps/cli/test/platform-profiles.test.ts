import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PLATFORMS } from "@contrast/manifest";
import { policyProfile, policyProfiles, settingsToJson } from "@contrast/policy";
import { describe, expect, it } from "vitest";
import { cli, REPO, tempDir } from "./helpers.js";

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

  it("says when the workspace's settings.json replaces the platform's settings", async () => {
    const dir = tempDir();
    copyFileSync(join(REPO, "testdata/genpolicy/fixture-images.json"), join(dir, "images.json"));
    const pod = `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  runtimeClassName: contrast-cc
  containers: [{name: c, image: "registry.k8s.io/pause:3.6@sha256:3d380ca8864549e74af4b29c10f9cb0956236dfb01c40ca076fb6c37253234db"}]
`;
    writeFileSync(join(dir, "pod.yaml"), pod);
    const plain = await cli(["policy", "generate", "pod.yaml", "--image-metadata", "images.json"], { cwd: dir });
    expect(plain.status, plain.stderr).toBe(0);
    expect(plain.stdout).not.toContain("replace the platform's");
    writeFileSync(join(dir, "settings.json"), settingsToJson(policyProfile("kata").settings));
    writeFileSync(join(dir, "pod.yaml"), pod);
    const r = await cli(["policy", "generate", "pod.yaml", "--image-metadata", "images.json"], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("The workspace's settings replace the platform's");
  });
});
