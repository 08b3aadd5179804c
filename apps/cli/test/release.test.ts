import { ContrastError } from "@contrast/core";
import { SIM_COORDINATOR_POLICY_HASH } from "@contrast/manifest";
import { expectCode, fuzzRuns } from "@contrast/testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { defaultCoordinatorPolicyHashes } from "../src/coordinator/policy-hash.js";
import { EMBEDDED_RELEASE, parseRelease, releaseImage, releasePlatform } from "../src/release.js";

const hash = (c: string) => c.repeat(64);
const RELEASE = {
  schema: "contrast-release/v1",
  version: "1.2.3",
  images: { initializer: `r.example.com/c/initializer:1.2.3@sha256:${hash("1")}` },
  platforms: {
    "metal-qemu-snp": { runtimeHandler: "contrast-cc-metal-qemu-snp-0123abcd", coordinatorPolicyHash: hash("a") },
    "k3s-qemu-snp": { runtimeHandler: "contrast-cc-k3s-qemu-snp-0123abcd", coordinatorPolicyHash: hash("b") },
    "metal-qemu-snp-gpu": {
      runtimeHandler: "contrast-cc-metal-qemu-snp-gpu-0123abcd",
      coordinatorPolicyHash: hash("a"),
    },
    "metal-qemu-tdx": { runtimeHandler: "contrast-cc-metal-qemu-tdx-0123abcd", coordinatorPolicyHash: hash("c") },
  },
};

describe("the embedded release", () => {
  it("is absent from a development build (tests run from source)", () => {
    expect(EMBEDDED_RELEASE).toBeUndefined();
    expect(releaseImage("initializer")).toBeUndefined();
    expect(releasePlatform("metal-qemu-snp")).toBeUndefined();
    expect(defaultCoordinatorPolicyHashes()).toEqual({ sim: [SIM_COORDINATOR_POLICY_HASH], snp: [], tdx: [] });
  });

  it("gives the Coordinator policy hashes of all a TEE's platforms", () => {
    const release = parseRelease(RELEASE, "test");
    expect(defaultCoordinatorPolicyHashes(release)).toEqual({
      sim: [SIM_COORDINATOR_POLICY_HASH],
      snp: [hash("a"), hash("b")],
      tdx: [hash("c")],
    });
    expect(releaseImage("initializer", release)).toBe(RELEASE.images.initializer);
    expect(releaseImage("constructor", release)).toBeUndefined();
    expect(releasePlatform("metal-qemu-tdx", release)?.runtimeHandler).toBe("contrast-cc-metal-qemu-tdx-0123abcd");
  });

  it("rejects unpinned images, bad handlers and bad hashes", () => {
    const broken = [
      { ...RELEASE, schema: "v0" },
      { ...RELEASE, images: { initializer: "r.example.com/c/initializer:1.2.3" } },
      { ...RELEASE, platforms: { x: { runtimeHandler: "kata", coordinatorPolicyHash: hash("a") } } },
      { ...RELEASE, platforms: { x: { runtimeHandler: "contrast-cc-x-0123abcd", coordinatorPolicyHash: hash("A") } } },
      {
        ...RELEASE,
        platforms: {
          x: { runtimeHandler: "contrast-cc-x-0123abcd", coordinatorPolicyHash: hash("a"), referenceValues: [] },
        },
      },
    ];
    for (const b of broken) expectCode(() => parseRelease(b, "test"), "CLI_RELEASE_INVALID");
  });

  it("parseRelease accepts or rejects any JSON with its one code (fuzz)", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          fc.record({
            schema: fc.constant("contrast-release/v1"),
            version: fc.string(),
            images: fc.jsonValue(),
            platforms: fc.jsonValue(),
          }),
        ),
        (value) => {
          try {
            parseRelease(value, "fuzz");
          } catch (e) {
            if (!(e instanceof ContrastError) || e.code !== "CLI_RELEASE_INVALID") throw e;
          }
        },
      ),
      { numRuns: fuzzRuns() },
    );
  });
});
