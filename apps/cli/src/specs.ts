import type { CommandSpec } from "./command-spec.js";
import { ATTESTATION_VERIFY } from "./commands/attestation-verify.flags.js";
import { COMPLETION } from "./commands/completion.flags.js";
import { DEMO } from "./commands/demo.flags.js";
import { GENERATE } from "./commands/generate.flags.js";
import { MANIFEST_VALIDATE } from "./commands/manifest-validate.flags.js";
import { POLICY_CHECK } from "./commands/policy-check.flags.js";
import { POLICY_GENERATE } from "./commands/policy-generate.flags.js";
import { POLICY_REQUESTS } from "./commands/policy-requests.flags.js";
import { RECOVER } from "./commands/recover.flags.js";
import { SET } from "./commands/set.flags.js";
import { VERIFY } from "./commands/verify.flags.js";

/** Every command's spec, in help order. The program pairs each with its lazily loaded body. */
export const SPECS: readonly CommandSpec[] = [
  GENERATE,
  SET,
  VERIFY,
  RECOVER,
  DEMO,
  MANIFEST_VALIDATE,
  ATTESTATION_VERIFY,
  POLICY_CHECK,
  POLICY_REQUESTS,
  POLICY_GENERATE,
  COMPLETION,
];
