import type { FlagSpec } from "./command-spec.js";

/** Options every command takes, before or after its words. */
export const GLOBAL_FLAGS: readonly FlagSpec[] = [
  {
    flags: "--version",
    description: "print version and supported platforms",
    doc: "print the version, the compatibility target (Contrast v1.5) and the platforms; a release build also its images and, per platform, the runtime handler, reference values and Coordinator policy hash (docs/release.md)",
  },
  {
    flags: "--log-level <level>",
    description: "log level: debug, info, warn, error, or a number",
    doc: "`debug`, `info`, `warn`, `error`, or a number on slog's scale (-4 debug, 0 info, 4 warn, 8 error); logs go to stderr",
    default: "warn",
  },
  {
    flags: "--workspace-dir <dir>",
    description: "directory that default file paths are relative to",
    doc: "directory in which default file names (`manifest.json`, …) are looked up when the file is not given explicitly; explicit paths are relative to the working directory (upstream semantics)",
  },
  {
    flags: "-o, --output <format>",
    description: "output format",
    doc: "`text`, or `json` for scripts: one JSON document on stdout (not in upstream)",
    choices: ["text", "json"],
    default: "text",
  },
];

/** The command groups, in help order; commands.ts lists the same names for the entry file. */
export const GROUPS: readonly { readonly name: string; readonly summary: string }[] = [
  { name: "manifest", summary: "inspect manifest files" },
  { name: "attestation", summary: "verify attestation evidence offline" },
  { name: "policy", summary: "generate and check Kata agent policies" },
];
