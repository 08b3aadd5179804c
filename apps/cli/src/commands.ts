/**
 * Top-level command names. Known before commander is set up, so that `contrast --version` can
 * answer without loading it; program.ts registers exactly these.
 */
export const COMMANDS: readonly string[] = [
  "generate",
  "set",
  "verify",
  "recover",
  "demo",
  "manifest",
  "attestation",
  "policy",
  "completion",
];
