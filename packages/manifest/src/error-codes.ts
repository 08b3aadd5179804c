import type { ErrorCodeInfo } from "@contrast/core";

/**
 * Every code @contrast/manifest reports, with what it means, its kind and the usual hint. Programs
 * branch on the code, never on the message; docs/errors.md is generated from this list.
 */
export const MANIFEST_ERROR_CODES = [
  {
    code: "MANIFEST_INVALID",
    kind: "input",
    meaning: "A Contrast manifest cannot be used; its issues list every problem.",
    hint: "Run `contrast manifest validate` to list every problem with a hint.",
  },
  {
    code: "PLATFORM_UNKNOWN",
    kind: "input",
    meaning: "The platform name is not one of the supported platforms.",
    hint: "Name a supported platform (the message lists them), e.g. metal-qemu-snp.",
  },
  {
    code: "RUNTIME_HANDLER_INVALID",
    kind: "input",
    meaning: "A runtime hash is not 8 lower-case hex characters.",
    hint: "Use the first 8 hex characters of the runtime's digest.",
  },
  {
    code: "SEED_SHARES_INVALID",
    kind: "input",
    meaning: "A seed-shares.json document is invalid.",
    hint: "Use the seed-shares.json written when the manifest was first set, unmodified.",
  },
] as const satisfies readonly ErrorCodeInfo[];

export type ManifestErrorCode = (typeof MANIFEST_ERROR_CODES)[number]["code"];
