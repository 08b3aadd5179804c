import type { CommandSpec, FlagSpec } from "./command-spec.js";

/**
 * Shell completion scripts, written from the same specs that register the commands, so a new
 * command or flag completes without anyone touching this file. The scripts are static: they never
 * call back into the CLI, so pressing Tab costs a shell function, not a Node start-up.
 *
 * Both shells follow one rule: the words typed so far select a command path (a group, a command
 * or nothing), skipping options and the values of options that take one. Then
 *   - after an option that takes a value: its choices, or file names;
 *   - on a word starting with `-`: the options of that path and the global ones;
 *   - otherwise: the path's subcommands, and file names when the command takes arguments.
 */
export const COMPLETION_SHELLS = ["bash", "zsh"] as const;
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

export interface CompletionModel {
  readonly groups: readonly { readonly name: string; readonly summary: string }[];
  readonly specs: readonly CommandSpec[];
  readonly globalFlags: readonly FlagSpec[];
}

interface Flag {
  readonly names: readonly string[];
  readonly takesValue: boolean;
  readonly choices?: readonly string[];
  readonly description: string;
}

interface Node {
  /** The command path as the scripts spell it: "" for the root, " policy", " policy generate". */
  readonly key: string;
  readonly subcommands: readonly { readonly name: string; readonly summary: string }[];
  readonly flags: readonly Flag[];
  /** What the command's first argument completes to: nothing, file names, or its choices. */
  readonly args: "none" | "files" | readonly string[];
}

export function completionScript(shell: CompletionShell, model: CompletionModel): string {
  const nodes = commandTree(model);
  const globals = model.globalFlags.map(flagOf);
  return shell === "bash" ? bashScript(nodes, globals) : zshScript(nodes, globals);
}

function flagOf(spec: FlagSpec): Flag {
  const [names, value] = splitFlags(spec.flags);
  return {
    names,
    takesValue: value,
    ...(spec.choices === undefined ? {} : { choices: spec.choices }),
    description: spec.description,
  };
}

/** `-o, --output <format>` → [["-o", "--output"], true]. */
function splitFlags(flags: string): [string[], boolean] {
  const parts = flags.split(/[ ,|]+/).filter((p) => p !== "");
  return [parts.filter((p) => p.startsWith("-")), parts.some((p) => p.startsWith("<") || p.startsWith("["))];
}

function commandTree(model: CompletionModel): Node[] {
  const topLevel = model.specs.filter((s) => s.path.length === 1);
  const root: Node = {
    key: "",
    subcommands: [
      ...model.groups.map((g) => ({ name: g.name, summary: g.summary })),
      ...topLevel.map((s) => ({ name: s.path[0], summary: s.summary })),
    ],
    flags: [],
    args: "none",
  };
  const groups = model.groups.map(
    (g): Node => ({
      key: ` ${g.name}`,
      subcommands: model.specs
        .filter((s) => s.path.length === 2 && s.path[0] === g.name)
        .map((s) => ({ name: s.path[1] as string, summary: s.summary })),
      flags: [],
      args: "none",
    }),
  );
  const commands = model.specs.map(
    (s): Node => ({
      key: ` ${s.path.join(" ")}`,
      subcommands: [],
      flags: s.flags.map(flagOf),
      args: s.args[0] === undefined ? "none" : (s.args[0].choices ?? "files"),
    }),
  );
  return [root, ...groups, ...commands];
}

/** A word for a single-quoted shell string. */
function sq(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

function valueFlags(nodes: readonly Node[], globals: readonly Flag[]): string[] {
  const names = new Set<string>();
  for (const f of [...globals, ...nodes.flatMap((n) => n.flags)])
    if (f.takesValue) for (const n of f.names) names.add(n);
  return [...names].sort();
}

/** The `case` arms that move the path one word down when the word names a subcommand. */
function pathArms(nodes: readonly Node[]): string {
  const keys = nodes.filter((n) => n.key !== "").map((n) => sq(n.key));
  return keys.join("|");
}

function choiceArms(nodes: readonly Node[], globals: readonly Flag[], indent: string, render: (c: string) => string) {
  const arms = new Map<string, string>();
  for (const f of [...globals, ...nodes.flatMap((n) => n.flags)]) {
    if (!f.takesValue || f.choices === undefined) continue;
    for (const name of f.names) arms.set(name, f.choices.join(" "));
  }
  return [...arms].map(([name, choices]) => `${indent}${sq(name)}) ${render(choices)} ;;`).join("\n");
}

function bashScript(nodes: readonly Node[], globals: readonly Flag[]): string {
  const globalWords = globals.flatMap((f) => f.names).join(" ");
  const perPath = nodes
    .map((n) => {
      const subs = n.subcommands.map((s) => s.name).join(" ");
      const flags = n.flags.flatMap((f) => f.names).join(" ");
      const args = n.args === "none" ? "" : n.args === "files" ? "files" : n.args.join(" ");
      return `    ${sq(n.key)}) subs=${sq(subs)}; flags=${sq(flags)}; args=${sq(args)} ;;`;
    })
    .join("\n");
  return `# bash completion for contrast (generated by \`contrast completion bash\`).
# Load it in the current shell:  source <(contrast completion bash)
# or install it:                 contrast completion bash > /etc/bash_completion.d/contrast
_contrast() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="" cmdpath="" skip=0 i w
  ((COMP_CWORD > 0)) && prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local value_flags=" ${valueFlags(nodes, globals).join(" ")} "
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    if ((skip)); then skip=0; continue; fi
    case "$w" in
      -*=*) ;;
      -*) [[ "$value_flags" == *" $w "* ]] && skip=1 ;;
      *) case "$cmdpath $w" in ${pathArms(nodes)}) cmdpath="$cmdpath $w" ;; esac ;;
    esac
  done
  COMPREPLY=()
  if [[ "$prev" == -* && "$value_flags" == *" $prev "* ]]; then
    case "$prev" in
${choiceArms(nodes, globals, "      ", (c) => `COMPREPLY=($(compgen -W ${sq(c)} -- "$cur"))`)}
      *) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")) ;;
    esac
    return 0
  fi
  local subs="" flags="" args=""
  case "$cmdpath" in
${perPath}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags ${globalWords}" -- "$cur"))
    return 0
  fi
  COMPREPLY=($(compgen -W "$subs" -- "$cur"))
  if [[ "$args" == files ]]; then
    compopt -o filenames 2>/dev/null
    COMPREPLY+=($(compgen -f -- "$cur"))
  elif [[ -n "$args" ]]; then
    COMPREPLY+=($(compgen -W "$args" -- "$cur"))
  fi
  return 0
}
complete -F _contrast contrast
`;
}

/** `name:description` for zsh's _describe, with the separators in the name and text escaped. */
function describeEntry(name: string, description: string): string {
  return sq(`${name.replaceAll(":", "\\:")}:${description}`);
}

function zshScript(nodes: readonly Node[], globals: readonly Flag[]): string {
  const globalEntries = globals.flatMap((f) => f.names.map((n) => describeEntry(n, f.description))).join(" ");
  const perPath = nodes
    .map((n) => {
      const subs = n.subcommands.map((s) => describeEntry(s.name, s.summary)).join(" ");
      const flags = n.flags.flatMap((f) => f.names.map((name) => describeEntry(name, f.description))).join(" ");
      const args = n.args === "none" ? "" : n.args === "files" ? "files" : n.args.join(" ");
      return `    (${sq(n.key)}) subs=(${subs}); flags=(${flags}); args=${sq(args)} ;;`;
    })
    .join("\n");
  return `#compdef contrast
# zsh completion for contrast (generated by \`contrast completion zsh\`).
# Load it in the current shell:  source <(contrast completion zsh)
# or install it as _contrast in a directory on $fpath, e.g.
#   contrast completion zsh > "\${fpath[1]}/_contrast"
_contrast() {
  local cur="\${words[CURRENT]}" prev="" cmdpath="" skip=0 i w
  (( CURRENT > 1 )) && prev="\${words[CURRENT-1]}"
  local value_flags=" ${valueFlags(nodes, globals).join(" ")} "
  for (( i = 2; i < CURRENT; i++ )); do
    w="\${words[i]}"
    if (( skip )); then skip=0; continue; fi
    case "$w" in
      (-*=*) ;;
      (-*) [[ "$value_flags" == *" $w "* ]] && skip=1 ;;
      (*) case "$cmdpath $w" in (${pathArms(nodes)}) cmdpath="$cmdpath $w" ;; esac ;;
    esac
  done
  if [[ "$prev" == -* && "$value_flags" == *" $prev "* ]]; then
    case "$prev" in
${choiceArms(nodes, globals, "      (", (c) => `compadd -- ${c}`)}
      (*) _files ;;
    esac
    return
  fi
  local -a subs flags globals
  local args=""
  globals=(${globalEntries})
  case "$cmdpath" in
${perPath}
  esac
  if [[ "$cur" == -* ]]; then
    _describe -t options option flags -- globals
    return
  fi
  (( \${#subs} )) && _describe -t commands command subs
  if [[ "$args" == files ]]; then
    _files
  elif [[ -n "$args" ]]; then
    compadd -- \${=args}
  fi
  return 0
}
if [[ "\${zsh_eval_context[-1]}" == loadautofunc ]]; then
  _contrast "$@"
else
  compdef _contrast contrast
fi
`;
}
