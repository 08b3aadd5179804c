import type { CommandSpec } from "../command-spec.js";

export const MANIFEST_VALIDATE: CommandSpec = {
  path: ["manifest", "validate"],
  summary: "check a manifest and list every problem with its code and hint",
  args: [
    {
      name: "[file]",
      description: "manifest file (default: manifest.json in --workspace-dir or the current directory)",
    },
  ],
  flags: [{ flags: "--strict", description: "also fail on warnings and expected-missing values" }],
  verdict: "the manifest has errors (with `--strict`: any finding)",
};
