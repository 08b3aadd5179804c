import type { CommandSpec } from "../command-spec.js";

export const GENERATE: CommandSpec = {
  path: ["generate"],
  summary:
    "inject the initializer and service mesh, generate the workloads' policies and write manifest.json (upstream's generate)",
  args: [{ name: "<paths...>", description: "YAML files, or directories searched for .yml/.yaml files" }],
  flags: [
    {
      flags: "--reference-values <platform>",
      description:
        "the platform the deployment runs on (required; case-insensitive), e.g. aks-clh-snp, metal-qemu-tdx, sim",
      doc: "the platform the deployment runs on (required, case-insensitive; `contrast --version` lists them): its policy profile, runtime handler and, for a new manifest, its reference values. `sim` names the local simulated TEE's authority (`--sim-dir`)",
    },
    {
      flags: "-p, --policy <file>",
      description: "Rego rules file; created from the platform's default if missing",
      default: "rules.rego",
      workspaceFile: true,
    },
    {
      flags: "-s, --settings <file>",
      description: "genpolicy settings; created from the platform's default if missing",
      default: "settings.json",
      workspaceFile: true,
    },
    {
      flags: "-c, --genpolicy-cache-path <file>",
      description: "genpolicy-compatible image layer cache",
      default: "layers-cache.json",
      workspaceFile: true,
    },
    {
      flags: "-m, --manifest <file>",
      description: "the manifest to create or update",
      default: "manifest.json",
      workspaceFile: true,
    },
    {
      flags: "-w, --add-workload-owner-key <file>",
      description:
        "workload owner key (EC PRIVATE KEY or PUBLIC KEY PEM) whose digest goes into the manifest; created when it is the only one and missing (repeatable)",
      doc: "workload owner key (`EC PRIVATE KEY` or PKIX `PUBLIC KEY` PEM) whose SHA-256 goes into `WorkloadOwnerKeyDigests`; when only the default (or one file) is named and it does not exist, a new ECDSA P-384 key is written there (mode 0600). Repeatable; default `workload-owner.pem`",
      repeatable: true,
    },
    {
      flags: "--add-seedshare-owner-key <file>",
      description:
        "seed share owner key (RSA PRIVATE KEY or PUBLIC KEY PEM) added to the manifest; created when it is the only one and missing (repeatable)",
      doc: "seed share owner key (`RSA PRIVATE KEY` or `PUBLIC KEY` PEM) whose PKCS#1 public key goes into `SeedshareOwnerPubKeys`; when only the default (or one file) is named and it does not exist, a new RSA-4096 key is written there (mode 0600). Repeatable; default `seedshare-owner.pem`",
      repeatable: true,
    },
    {
      flags: "-d, --disable-updates",
      description: "no workload owner keys: the manifest can never be updated (excludes -w)",
    },
    {
      flags: "--image-replacements <file>",
      description: "image replacements file (`<image> = <replacement>` per line) for the injected images",
    },
    { flags: "--skip-initializer", description: "do not inject the Contrast initializer" },
    { flags: "--skip-service-mesh", description: "do not inject the service mesh sidecar" },
    {
      flags: "--output-file <file>",
      description: "write the patched YAML there instead of changing the files in place (upstream's newer -o)",
    },
    {
      flags: "--strict",
      description: "fail on workload warnings (memory, image pinning, tmpfs, GPU) instead of printing them",
    },
    {
      flags: "--image-metadata <file>",
      description: "offline: image metadata file (docs/image-metadata.md); no registry is contacted",
    },
    {
      flags: "--insecure-registry <host>",
      description: "registry to reach over plain HTTP (repeatable)",
      repeatable: true,
    },
    {
      flags: "--sim-dir <dir>",
      description:
        "with --reference-values sim: the simulated TEE's authority directory (default $CONTRAST_SIM_DIR, else $XDG_STATE_HOME/contrast/sim)",
      doc: "with `--reference-values sim`: the simulated TEE's authority directory, the Coordinator's `--sim-dir` (default `$CONTRAST_SIM_DIR`, else `$XDG_STATE_HOME/contrast/sim` or `~/.local/state/contrast/sim`); an authority is created there when there is none (not in upstream)",
    },
  ],
  verdict: "with `--strict`: a workload warning (memory, image pinning, tmpfs, GPU) was found",
};
