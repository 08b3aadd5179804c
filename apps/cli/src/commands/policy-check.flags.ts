import type { CommandSpec } from "../command-spec.js";
import { honestFlags } from "./policy-requests.flags.js";

export const POLICY_CHECK: CommandSpec = {
  path: ["policy", "check"],
  summary: "evaluate agent requests against a policy; exit 0 allowed, 2 denied, 1 error",
  args: [
    {
      name: "<policy>",
      description: "a .rego file, the base64 annotation value, or YAML carrying io.katacontainers.config.agent.policy",
    },
    { name: "[request]", description: "the request as JSON (with --kind)" },
  ],
  flags: [
    { flags: "--kind <name>", description: "the request's name, e.g. CreateContainerRequest" },
    { flags: "--requests <file>", description: 'a request stream: one ["ep":"<RequestName>",{json}], entry per line' },
    {
      flags: "--trace <lines>",
      description: "policy print lines to show for a denial (with --log-level debug)",
      default: "8",
    },
    {
      flags: "--honest",
      description: "build each workload's honest requests from the YAML and check them with its policy",
    },
    {
      flags: "--platform <name>",
      description:
        "the platform whose Contrast runtime the policy is for (policy profile; --honest builds its requests, and the agent's Rego dialect is checked), e.g. metal-qemu-snp, aks-clh-snp",
    },
    ...honestFlags("--honest: "),
    {
      flags: "--workload <name>",
      description:
        "the workload (metadata.name) whose policy decides, in a YAML with several; with --honest, only that workload",
    },
  ],
  verdict: "a request is denied",
};
