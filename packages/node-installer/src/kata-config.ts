import type { Platform } from "@contrast/manifest";
import { stringify, type TomlTable } from "smol-toml";
import { RUNTIME_BASE_DIR } from "./config.js";
import { NodeInstallError } from "./errors.js";

/** The host directory of one runtime: /opt/edgeless/<handler>. */
export function runtimeDir(handler: string): string {
  return `${RUNTIME_BASE_DIR}/${handler}`;
}

/** configuration-<clh-snp|qemu-snp|qemu-tdx>.toml: the Kata configuration the shim reads. */
export function kataConfigFileName(platform: Platform): string {
  if (platform.simulated) {
    throw new NodeInstallError(
      "NODE_INSTALL_PLATFORM_UNSUPPORTED",
      `platform ${platform.id} has no node runtime: the simulated TEE runs no pod VMs`,
    );
  }
  if (platform.hypervisor === "cloud-hypervisor") return "configuration-clh-snp.toml";
  return platform.tee === "tdx" ? "configuration-qemu-tdx.toml" : "configuration-qemu-snp.toml";
}

export interface KataConfigOptions {
  readonly debug: boolean;
  /** Replaces the guest kernel command line (QEMU platforms). */
  readonly kernelParams?: string | undefined;
  /** No snapshotter delivers images: the guest pulls them (Kata's runtime.force_guest_pull). */
  readonly guestPull?: boolean | undefined;
}

/**
 * The Kata 3.x configuration for a platform. Keys are Kata's own (its configuration-*.toml
 * templates); the values point into the runtime directory, where the payload puts the VMM,
 * firmware, kernel and guest image. Confidential guests share no file system with the host
 * (shared_fs = "none"): container images reach the guest through the snapshotter.
 */
export function kataConfig(platform: Platform, handler: string, options: KataConfigOptions): TomlTable {
  const dir = runtimeDir(handler);
  kataConfigFileName(platform);
  const memory = platform.podOverheadMiB;
  const agent: TomlTable = { dial_timeout: platform.gpu ? 600 : 90 };
  const runtime: TomlTable = {
    internetworking_model: "tcfilter",
    disable_guest_seccomp: true,
    sandbox_cgroup_only: true,
    static_sandbox_resource_mgmt: true,
    enable_pprof: false,
  };
  if (platform.gpu) runtime.create_container_timeout = 600;
  if (options.guestPull === true) runtime.force_guest_pull = true;
  if (options.debug) {
    agent.enable_debug = true;
    agent.debug_console_enabled = true;
    runtime.enable_debug = true;
  }
  if (platform.hypervisor === "cloud-hypervisor") {
    const vmm = `${dir}/bin/cloud-hypervisor-snp`;
    return {
      hypervisor: {
        clh: {
          path: vmm,
          valid_hypervisor_paths: [vmm],
          igvm: `${dir}/share/kata-containers-igvm.img`,
          image: `${dir}/share/kata-containers.img`,
          confidential_guest: true,
          sev_snp_guest: true,
          // SNP guest policy 0x30000: SMT allowed, the reserved bit 17 set, debugging off.
          snp_guest_policy: 196608,
          shared_fs: "none",
          default_vcpus: 1,
          default_memory: memory,
          enable_debug: options.debug,
        },
      },
      agent: { kata: agent },
      image: { service_offload: false },
      runtime: { ...runtime, static_sandbox_default_workload_mem: 1792 },
    };
  }
  const tee = platform.tee === "tdx" ? "tdx" : "snp";
  const vmm = `${dir}/${tee}/bin/qemu-system-x86_64`;
  const qemu: TomlTable = {
    path: vmm,
    valid_hypervisor_paths: [vmm],
    kernel: `${dir}/share/kata-kernel`,
    initrd: `${dir}/share/kata-initrd.zst`,
    image: `${dir}/share/kata-containers.img`,
    firmware: `${dir}/${tee}/share/OVMF.fd`,
    machine_type: "q35",
    rootfs_type: "erofs",
    kernel_params: options.kernelParams ?? "",
    confidential_guest: true,
    shared_fs: "none",
    block_device_driver: "virtio-blk-pci",
    block_device_aio: "threads",
    default_vcpus: 1,
    default_memory: memory,
    enable_debug: options.debug,
  };
  if (tee === "snp") qemu.sev_snp_guest = true;
  if (platform.gpu) {
    qemu.guest_hook_path = "/usr/share/oci/hooks";
    qemu.cold_plug_vfio = "root-port";
  }
  return { hypervisor: { qemu }, agent: { kata: agent }, runtime };
}

/** The configuration file's bytes: deterministic (keys in a fixed order), with a header line. */
export function kataConfigText(platform: Platform, handler: string, options: KataConfigOptions): string {
  return `# Written by the Contrast node installer for ${handler}; it is rewritten on every install.\n${stringify(kataConfig(platform, handler, options))}`;
}
