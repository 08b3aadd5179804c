import { PLATFORMS, parsePlatform } from "@contrast/manifest";
import { expectCode } from "@contrast/testkit";
import { parse } from "smol-toml";
import { describe, expect, it } from "vitest";
import { kataConfig, kataConfigFileName, kataConfigText } from "../src/index.js";
import { at } from "./host.js";

const handler = (id: string) => `contrast-cc-${id}-1a2b3c4d`;

describe("Kata configuration", () => {
  it("AKS: cloud-hypervisor with the IGVM image, SNP and its guest policy, no shared file system", () => {
    const p = parsePlatform("aks-clh-snp");
    const dir = `/opt/edgeless/${handler(p.id)}`;
    expect(kataConfigFileName(p)).toBe("configuration-clh-snp.toml");
    const doc = parse(kataConfigText(p, handler(p.id), { debug: false }));
    expect(at(doc, "hypervisor", "clh")).toMatchObject({
      path: `${dir}/bin/cloud-hypervisor-snp`,
      valid_hypervisor_paths: [`${dir}/bin/cloud-hypervisor-snp`],
      igvm: `${dir}/share/kata-containers-igvm.img`,
      image: `${dir}/share/kata-containers.img`,
      confidential_guest: true,
      sev_snp_guest: true,
      snp_guest_policy: 0x30000,
      shared_fs: "none",
      default_memory: 256,
    });
    expect(at(doc, "hypervisor", "qemu")).toBeUndefined();
    expect(at(doc, "agent", "kata", "enable_debug")).toBeUndefined();
  });

  it("every hardware platform: its own file name, paths inside its runtime directory, deterministic text", () => {
    const names = new Set<string>();
    for (const p of PLATFORMS.filter((x) => !x.simulated)) {
      const text = kataConfigText(p, handler(p.id), { debug: false });
      expect(kataConfigText(p, handler(p.id), { debug: false })).toBe(text);
      names.add(`${p.tee}/${p.hypervisor}:${kataConfigFileName(p)}`);
      const paths = text.match(/"\/[^"]*"/g) ?? [];
      expect(paths.length).toBeGreaterThan(3);
      for (const path of paths)
        expect(path.startsWith(`"/opt/edgeless/${handler(p.id)}/`) || path === '"/usr/share/oci/hooks"').toBe(true);
      const qemu = at(kataConfig(p, handler(p.id), { debug: true }), "hypervisor", "qemu") as
        | Record<string, unknown>
        | undefined;
      if (qemu !== undefined) {
        expect(qemu.enable_debug).toBe(true);
        expect(qemu.sev_snp_guest === true).toBe(p.tee === "snp");
        expect(qemu.cold_plug_vfio === "root-port").toBe(p.gpu);
        expect(qemu.default_memory).toBe(p.podOverheadMiB);
      }
    }
    expect([...names].sort()).toEqual([
      "snp/cloud-hypervisor:configuration-clh-snp.toml",
      "snp/qemu:configuration-qemu-snp.toml",
      "tdx/qemu:configuration-qemu-tdx.toml",
    ]);
  });

  it("qemuExtraKernelParams replaces the kernel command line; sim has no Kata configuration", () => {
    const p = parsePlatform("metal-qemu-tdx");
    const doc = kataConfig(p, handler(p.id), { debug: false, kernelParams: "console=ttyS0" });
    expect(at(doc, "hypervisor", "qemu", "kernel_params")).toBe("console=ttyS0");
    expectCode(() => kataConfigFileName(parsePlatform("sim")), "NODE_INSTALL_PLATFORM_UNSUPPORTED");
  });
});
