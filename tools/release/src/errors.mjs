import { ContrastError } from "@contrast/core";

/**
 * Every code the release tool reports, with its usual advice (a throw site may be more specific).
 * The tool is private repository tooling: its codes are listed here and in docs/release.md.
 */
export const RELEASE_ERROR_CODES = [
  {
    code: "RELEASE_USAGE",
    kind: "input",
    meaning: "The command line of the release tool is wrong.",
    hint: "Run `node tools/release/src/cli.mjs --help`.",
  },
  {
    code: "RELEASE_IMAGES_INVALID",
    kind: "input",
    meaning: "images.json is not the contrast-images/v1 document `pnpm images` writes, or lacks an image.",
    hint: "Build the images again with `pnpm images`; render from its build/images/images.json.",
  },
  {
    code: "RELEASE_PAYLOAD_INVALID",
    kind: "input",
    meaning: "The runtime payload (--runtime-payload) is not a node-installer configuration.",
    hint: 'Pass a JSON file {"files": [{"url", "path", "integrity", "executable"}], "debugRuntime"} or a map of platform id to one.',
  },
  {
    code: "RELEASE_REFERENCE_VALUES_INVALID",
    kind: "input",
    meaning: "The reference values file (--reference-values) is not a map of platform id to reference values.",
    hint: 'Pass a JSON file such as {"metal-qemu-snp": {"snp": [{...}]}}.',
  },
  {
    code: "RELEASE_PREFIX_INVALID",
    kind: "input",
    meaning: "The image prefix is not a registry host and repository path.",
    hint: "Pass --image-prefix like ghcr.io/example/contrast or localhost:5000/contrast.",
  },
  {
    code: "RELEASE_OBJECT_INVALID",
    kind: "internal",
    meaning: "A rendered Kubernetes object does not validate against the Kubernetes API schema.",
    hint: "This is a bug of the release templates (tools/release/src); the message names the field.",
  },
  {
    code: "RELEASE_CLI_EMBED_FAILED",
    kind: "internal",
    meaning: "The CLI bundle built with the release does not report that release (`contrast --version`).",
    hint: "Check apps/cli's buildApp.defineJson and apps/cli/src/release.ts; the message shows what the bundle printed.",
  },
  {
    code: "RELEASE_POLICY_MISSING",
    kind: "internal",
    meaning: "Policy generation produced no policy for the Coordinator's StatefulSet.",
    hint: "This is a bug of the release templates: the Coordinator must run with a contrast-cc runtime class.",
  },
];

/**
 * @param {string} code one of RELEASE_ERROR_CODES
 * @param {string} message
 * @param {{ hint?: string, cause?: unknown, details?: Record<string, unknown> }} [options]
 */
export function releaseError(code, message, options = {}) {
  const info = RELEASE_ERROR_CODES.find((c) => c.code === code);
  if (info === undefined) throw new Error(`unregistered release error code ${code}`);
  return new ContrastError(code, message, {
    kind: /** @type {"input"} */ (info.kind),
    hint: options.hint ?? info.hint,
    ...(options.cause === undefined ? {} : { cause: options.cause }),
    ...(options.details === undefined ? {} : { details: options.details }),
  });
}
