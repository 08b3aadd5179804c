import type { CommandSpec } from "../command-spec.js";
import { COMPLETION_SHELLS } from "../completion.js";

export const COMPLETION: CommandSpec = {
  path: ["completion"],
  summary: "print the shell completion script for bash or zsh",
  args: [
    {
      name: "<shell>",
      description: "bash (`source <(contrast completion bash)`) or zsh (`source <(contrast completion zsh)`)",
      choices: COMPLETION_SHELLS,
    },
  ],
  flags: [],
  verdict: "never: printing a script has no verdict",
};
