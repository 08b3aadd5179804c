import type { CommandSpec } from "../command-spec.js";
import { COORDINATOR_FLAG, COORDINATOR_POLICY_HASH_FLAG, MANIFEST_FLAG, timeoutFlag } from "./coordinator-flags.js";

export const VERIFY: CommandSpec = {
  path: ["verify"],
  summary: "attest the Coordinator, fetch its manifest history into verify/ and check the active manifest is yours",
  args: [],
  flags: [COORDINATOR_FLAG, MANIFEST_FLAG, COORDINATOR_POLICY_HASH_FLAG, timeoutFlag(30, "upstream tries once")],
  verdict:
    "the Coordinator's evidence does not match the manifest (kind `policy`), or its active manifest is not `--manifest` (`CLI_VERIFY_MANIFEST_MISMATCH`, `CLI_VERIFY_MANIFEST_OUTDATED`)",
};
