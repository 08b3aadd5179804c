import type { CommandSpec, FlagSpec } from "../command-spec.js";

/**
 * Where an honest runtime's requests come from: the flags `policy requests` and
 * `policy check --honest` share with `policy generate`.
 */
export function honestFlags(prefix: string): FlagSpec[] {
  return [
    {
      flags: "--settings <file>",
      description: `${prefix}genpolicy settings, as for policy generate`,
      default: "settings.json",
      workspaceFile: true,
    },
    { flags: "--image-metadata <file>", description: `${prefix}offline image metadata file (docs/image-metadata.md)` },
    {
      flags: "--layers-cache <file>",
      description: `${prefix}genpolicy-compatible image layer cache`,
      default: "layers-cache.json",
      workspaceFile: true,
    },
    {
      flags: "--insecure-registry <host>",
      description: `${prefix}registry to reach over plain HTTP (repeatable)`,
      repeatable: true,
    },
    {
      flags: "--config <file>",
      description: `${prefix}YAML with ConfigMaps and Secrets the workloads refer to (repeatable)`,
      repeatable: true,
    },
    {
      flags: "--sandbox-name <name>",
      description: `${prefix}the pod's name (default: the name a controller would give it)`,
    },
    { flags: "--namespace <ns>", description: `${prefix}the pod's namespace (default: the workload's, else default)` },
  ];
}

export const POLICY_REQUESTS: CommandSpec = {
  path: ["policy", "requests"],
  summary: "write the requests an honest runtime sends for a workload (for policy check --requests)",
  args: [{ name: "<yaml>", description: "Kubernetes YAML with the workload" }],
  flags: [
    { flags: "--output-file <file>", description: "write the stream there instead of stdout" },
    {
      flags: "--platform <name>",
      description:
        "the platform whose Contrast runtime the policy is for (policy profile), e.g. metal-qemu-snp, aks-clh-snp",
    },
    ...honestFlags(""),
    { flags: "--workload <name>", description: "only the workload of this name" },
  ],
};
