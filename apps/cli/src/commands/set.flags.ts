import type { CommandSpec } from "../command-spec.js";
import { COORDINATOR_FLAG, COORDINATOR_POLICY_HASH_FLAG, MANIFEST_FLAG, timeoutFlag } from "./coordinator-flags.js";

export const SET: CommandSpec = {
  path: ["set"],
  summary: "attest the Coordinator and set the manifest, checking the YAML's policies against it",
  args: [
    {
      name: "[paths...]",
      description: "the YAML `contrast generate` annotated: files, or directories searched for .yml/.yaml files",
    },
  ],
  flags: [
    COORDINATOR_FLAG,
    MANIFEST_FLAG,
    {
      flags: "--workload-owner-key <file>",
      description: "the key authorising manifest updates; a fresh key if the default file is missing",
      doc: "the workload owner key (ECDSA, `EC PRIVATE KEY` PEM) the Coordinator authorises updates by; when the default file does not exist, a fresh key is used (enough for the first manifest only), with a warning",
      default: "workload-owner.pem",
      workspaceFile: true,
    },
    COORDINATOR_POLICY_HASH_FLAG,
    timeoutFlag(180, "upstream: 180 s"),
  ],
  verdict:
    "the Coordinator's evidence does not match the manifest (kind `policy`), or it refused the manifest (`COORDINATOR_UPDATE_UNAUTHORIZED`, `COORDINATOR_UPDATE_DISABLED`, `COORDINATOR_SEEDSHARE_OWNERS_CHANGED`)",
};
