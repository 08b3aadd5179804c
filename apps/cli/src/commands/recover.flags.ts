import type { CommandSpec } from "../command-spec.js";
import { COORDINATOR_FLAG, COORDINATOR_POLICY_HASH_FLAG, MANIFEST_FLAG, timeoutFlag } from "./coordinator-flags.js";

export const RECOVER: CommandSpec = {
  path: ["recover"],
  summary: "recover a restarted Coordinator with your seed share",
  args: [],
  flags: [
    COORDINATOR_FLAG,
    MANIFEST_FLAG,
    {
      flags: "--seedshare-owner-key <file>",
      description: "the seed share owner's private key (RSA)",
      doc: "the seed share owner key (RSA, `RSA PRIVATE KEY` PEM): it decrypts the seed share and is the client certificate's key the Coordinator authorises recovery by",
      default: "seedshare-owner.pem",
      workspaceFile: true,
    },
    {
      flags: "--seed <file>",
      description: "the seed shares `contrast set` wrote on the first set",
      default: "seed-shares.json",
      workspaceFile: true,
    },
    {
      flags: "--workload-owner-key <file>",
      description: "accepted for compatibility; not used (recovery is authorised by the seed share owner key)",
      default: "workload-owner.pem",
      workspaceFile: true,
    },
    {
      flags: "--force",
      description: "recover even when ready peer Coordinators could recover this one (replaces the mesh CA key)",
    },
    COORDINATOR_POLICY_HASH_FLAG,
    timeoutFlag(30, "upstream tries once"),
  ],
  verdict:
    "the Coordinator's evidence does not match the manifest (kind `policy`), or it refused the key (`COORDINATOR_RECOVERY_UNAUTHORIZED`)",
};
