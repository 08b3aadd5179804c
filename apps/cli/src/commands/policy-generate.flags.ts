import type { CommandSpec } from "../command-spec.js";

export const POLICY_GENERATE: CommandSpec = {
  path: ["policy", "generate"],
  summary: "annotate confidential workloads (runtimeClassName contrast-cc*) with their agent policy",
  args: [{ name: "<paths...>", description: "YAML files, or directories searched for .yml/.yaml files" }],
  flags: [
    {
      flags: "--platform <name>",
      description:
        "the platform whose Contrast runtime the policy is for (policy profile), default metal-qemu-snp; e.g. aks-clh-snp, k3s-qemu-tdx, sim, kata (stock Kata)",
    },
    {
      flags: "--settings <file>",
      description: "genpolicy settings; drop-ins from <name>.d/ next to it",
      default: "settings.json",
      workspaceFile: true,
    },
    {
      flags: "--rules <file>",
      description: "Rego rules the policy starts with; the built-in rules if the default file does not exist",
      default: "rules.rego",
      workspaceFile: true,
    },
    {
      flags: "--layers-cache <file>",
      description: "genpolicy-compatible image layer cache",
      default: "layers-cache.json",
      workspaceFile: true,
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
      flags: "--config <file>",
      description: "more YAML with ConfigMaps and Secrets the workloads refer to (repeatable)",
      repeatable: true,
    },
    {
      flags: "--output-file <file>",
      description: "write the annotated YAML there instead of changing the files in place",
    },
    { flags: "--allow-unsupported-fields", description: "warn about unknown pod-spec fields instead of failing" },
    { flags: "--pin-images", description: "rewrite image tags in the YAML to the digests the policies were made for" },
    { flags: "--all-pods", description: "annotate every pod spec, whatever its runtimeClassName (as genpolicy does)" },
    {
      flags: "--annotation <format>",
      description:
        "where the policy goes: agent-policy (io.katacontainers.config.agent.policy, Contrast v1.5) or initdata (io.katacontainers.config.hypervisor.cc_init_data, newer runtimes); default: the platform's",
    },
  ],
  verdict: "the rules use a built-in the platform's agent lacks (`POLICY_REGO_DIALECT`, kind `policy`)",
};
