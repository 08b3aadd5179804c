import { sha256, sha384, toHex, utf8 } from "@contrast/core";
import { describe, expect, it } from "vitest";
import { parseRuntimeHandler, RUNTIME_CLASS_PLACEHOLDER, runtimeHandler } from "../src/handler.js";
import {
  PLATFORMS,
  parsePlatform,
  SIM_COORDINATOR_POLICY_HASH,
  SIM_COORDINATOR_POLICY_LABEL,
  SIM_MEASUREMENT_LABEL,
  SIM_TRUSTED_MEASUREMENT,
  simReferenceValues,
} from "../src/platforms.js";
import { errorCode } from "./fixtures.js";

describe("platforms", () => {
  it("lists the eight v1.5 platforms and the simulated TEE", () => {
    expect(PLATFORMS.map((p) => p.name)).toEqual([
      "AKS-CLH-SNP",
      "K3s-QEMU-TDX",
      "K3s-QEMU-SNP",
      "K3s-QEMU-SNP-GPU",
      "RKE2-QEMU-TDX",
      "Metal-QEMU-SNP",
      "Metal-QEMU-TDX",
      "Metal-QEMU-SNP-GPU",
      "Sim-INSECURE",
    ]);
    for (const p of PLATFORMS) expect(p.id).toBe(p.name.toLowerCase().replace("-insecure", ""));
    expect(PLATFORMS.filter((p) => p.simulated).map((p) => p.id)).toEqual(["sim"]);
    expect(Object.isFrozen(PLATFORMS)).toBe(true);
  });

  it("keeps the simulated TEE apart from every hardware TEE", () => {
    const sim = parsePlatform("sim");
    expect(sim.tee).toBe("sim");
    expect(sim.hypervisor).toBe("none");
    for (const p of PLATFORMS.filter((x) => x.id !== "sim")) {
      expect(p.simulated).toBe(false);
      expect(["snp", "tdx"]).toContain(p.tee);
    }
  });

  it("parses --reference-values case-insensitively", () => {
    expect(parsePlatform("Metal-QEMU-SNP").id).toBe("metal-qemu-snp");
    expect(parsePlatform(" aks-clh-snp ").tee).toBe("snp");
    expect(parsePlatform("K3S-QEMU-TDX").podOverheadMiB).toBe(512);
    expect(parsePlatform("metal-qemu-snp-gpu").gpu).toBe(true);
  });

  it("rejects unknown platforms with a suggestion", () => {
    let err: { code?: string; hint?: string } = {};
    try {
      parsePlatform("metal-qemu-snpp");
    } catch (e) {
      err = e as typeof err;
    }
    expect(err.code).toBe("PLATFORM_UNKNOWN");
    expect(err.hint).toContain('Did you mean "metal-qemu-snp"?');
    expect(errorCode(() => parsePlatform("azure"))).toBe("PLATFORM_UNKNOWN");
  });
});

describe("runtime handlers", () => {
  it("builds and parses contrast-cc-<platform>-<8 hex>", () => {
    expect(runtimeHandler("metal-qemu-tdx", "4c6bca70")).toBe("contrast-cc-metal-qemu-tdx-4c6bca70");
    for (const p of PLATFORMS) {
      const name = runtimeHandler(p, "0123abcd");
      expect(name.startsWith(`${RUNTIME_CLASS_PLACEHOLDER}-`)).toBe(true);
      expect(parseRuntimeHandler(name)).toEqual({ platform: p, hash: "0123abcd" });
    }
  });

  it.each([
    ["contrast-cc", "prefix"],
    ["kata-cc-metal-qemu-tdx-4c6bca70", "prefix"],
    ["contrast-cc-metal-qemu-tdx", "hash"],
    ["contrast-cc-metal-qemu-tdx-4C6BCA70", "hash"],
    ["contrast-cc-metal-qemu-tdx-4c6bca7", "hash"],
    ["contrast-cc-metal-qemu-sev-4c6bca70", "unknown platform"],
  ])("rejects %s", (name, why) => {
    expect(() => parseRuntimeHandler(name)).toThrow(expect.objectContaining({ code: "RUNTIME_HANDLER_INVALID" }));
    expect(() => parseRuntimeHandler(name)).toThrow(why);
  });

  it("rejects malformed runtime hashes", () => {
    expect(errorCode(() => runtimeHandler("sim", "xyz"))).toBe("RUNTIME_HANDLER_INVALID");
  });
});

describe("simulated reference values", () => {
  it("pin the simulated ARK and a fixed, labelled launch measurement", () => {
    const rv = simReferenceValues("cd".repeat(32));
    expect(rv.ArkKeyDigest).toBe("cd".repeat(32));
    expect(rv.TrustedMeasurement).toBe(SIM_TRUSTED_MEASUREMENT);
    expect(SIM_TRUSTED_MEASUREMENT).toBe(toHex(sha384(utf8(SIM_MEASUREMENT_LABEL))));
    expect(rv.GuestPolicy.SMT).toBe(true);
    expect(rv.GuestPolicy.Debug).toBe(false);
  });
});

describe("the simulated Coordinator's policy hash", () => {
  it("is SHA-256 of its fixed label", () => {
    expect(SIM_COORDINATOR_POLICY_HASH).toBe(toHex(sha256(utf8(SIM_COORDINATOR_POLICY_LABEL))));
  });
});
