import type { ErrorCodeInfo } from "@contrast/core";

/**
 * Every code the Coordinator program itself reports (configuration, listening, shutdown). The
 * Coordinator's protocol codes are in @contrast/coordinator; these are about running it.
 * docs/errors.md is generated from this list (tools/errors-doc reads it from source).
 */
export const SERVER_ERROR_CODES = [
  {
    code: "SERVER_CONFIG_INVALID",
    kind: "input",
    meaning: "A flag or environment variable of the Coordinator has a value it cannot use.",
    hint: "Run contrast-coordinator --help for the flags and the environment variables they read.",
  },
  {
    code: "SERVER_PLATFORM_REQUIRED",
    kind: "input",
    meaning: "The Coordinator was started without naming its platform.",
    hint: "Pass --platform sim, snp or tdx (or set CONTRAST_PLATFORM); there is no default.",
  },
  {
    code: "SERVER_PORT_UNAVAILABLE",
    kind: "io",
    meaning: "The Coordinator could not listen on one of its ports.",
    hint: "Another process holds the port, or the address is wrong; choose other ports with the --*-port flags.",
  },
  {
    code: "SERVER_SHUTDOWN_TIMEOUT",
    kind: "io",
    meaning: "Open calls and connections did not finish within the shutdown budget; they were cut.",
    hint: "Clients saw their calls fail with UNAVAILABLE and may retry against another Coordinator.",
  },
] as const satisfies readonly ErrorCodeInfo[];

export type ServerErrorCode = (typeof SERVER_ERROR_CODES)[number]["code"];
