import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { completionScript } from "../src/completion.js";
import { GLOBAL_FLAGS, GROUPS } from "../src/global-flags.js";
import { SPECS } from "../src/specs.js";
import { cli, runBundle, tempDir } from "./helpers.js";

// The scripts are run by the real shells: bash's completion function is called the way
// `complete -F` calls it (COMP_WORDS / COMP_CWORD in, COMPREPLY out); zsh's with the completion
// system's builtins (_describe, _files, compadd) replaced by functions that print what they were
// offered, since a non-interactive zsh has no completion widget to call them from.

const hasZsh = spawnSync("zsh", ["-c", "true"]).status === 0;
const model = { groups: GROUPS, specs: SPECS, globalFlags: GLOBAL_FLAGS };

/** Completes the last word of `line` (which may be empty) in `cwd`, as bash would. */
function bashComplete(line: string, cwd: string): string[] {
  const words = line.split(" ");
  const script = `${completionScript("bash", model)}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")})
COMP_CWORD=${words.length - 1}
_contrast
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync("bash", ["--norc", "--noprofile", "-c", script], { cwd, encoding: "utf8" });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return r.stdout.split("\n").filter((l) => l !== "");
}

function zshComplete(line: string, cwd: string): string[] {
  const words = line.split(" ");
  const script = `
compdef() { :; }
_describe() {
  local -a entries; local name
  shift 2
  for name in "$@"; do
    [[ "$name" == -- ]] && continue
    entries=("\${(@P)name}")
    for e in "\${entries[@]}"; do print -r -- "\${\${e%%:*}//\\\\/}"; done
  done
}
_files() { print -r -- FILES; }
compadd() { [[ "$1" == -- ]] && shift; print -rl -- "$@"; }
${completionScript("zsh", model)}
words=(${words.map((w) => `'${w}'`).join(" ")})
CURRENT=${words.length}
_contrast`;
  const r = spawnSync("zsh", ["-f", "-c", script], { cwd, encoding: "utf8" });
  expect(r.stderr).toBe("");
  return r.stdout.split("\n").filter((l) => l !== "");
}

describe("contrast completion", () => {
  const dir = tempDir();
  mkdirSync(join(dir, "deploy"));
  writeFileSync(join(dir, "deploy", "app.yml"), "kind: Pod\n");

  it("bash offers the top-level words, a group's verbs, flags and their choices", () => {
    const top = bashComplete("contrast ", dir);
    expect(top).toEqual(expect.arrayContaining(["manifest", "attestation", "policy", "completion"]));
    expect(bashComplete("contrast po", dir)).toEqual(["policy"]);
    expect(bashComplete("contrast policy ", dir).sort()).toEqual(["check", "generate", "requests"]);
    expect(bashComplete("contrast policy generate --pl", dir)).toEqual(["--platform"]);
    // A global flag is offered after the command too, and its value completes from its choices.
    expect(bashComplete("contrast policy generate --out", dir)).toEqual(
      expect.arrayContaining(["--output", "--output-file"]),
    );
    expect(bashComplete("contrast -o ", dir).sort()).toEqual(["json", "text"]);
    expect(bashComplete("contrast completion ", dir).sort()).toEqual(["bash", "zsh"]);
  });

  it("bash skips option values when finding the command, and completes file arguments", () => {
    // `--workspace-dir policy` is an option with its value, not the policy group.
    expect(bashComplete("contrast --workspace-dir policy ", dir)).toEqual(
      expect.arrayContaining(["manifest", "policy"]),
    );
    expect(bashComplete("contrast --log-level debug policy generate dep", dir)).toEqual(["deploy"]);
    expect(bashComplete("contrast policy generate --settings dep", dir)).toEqual(["deploy"]);
    // Not a command: nothing but what the root offers.
    expect(bashComplete("contrast nosuch ", dir)).toEqual(bashComplete("contrast ", dir));
  });

  it.skipIf(!hasZsh)("zsh offers the same words as bash", () => {
    expect(zshComplete("contrast ", dir)).toEqual(expect.arrayContaining(["manifest", "policy", "completion"]));
    expect(zshComplete("contrast policy ", dir).sort()).toEqual(["check", "generate", "requests"]);
    expect(zshComplete("contrast policy generate --", dir)).toEqual(
      expect.arrayContaining(["--platform", "--output-file", "--log-level", "-o"]),
    );
    expect(zshComplete("contrast --output ", dir)).toEqual(["text", "json"]);
    expect(zshComplete("contrast --workspace-dir x policy generate ", dir)).toEqual(["FILES"]);
    expect(zshComplete("contrast completion ", dir)).toEqual(["bash", "zsh"]);
  });

  it("every registered command and flag is in both scripts", () => {
    for (const shell of ["bash", "zsh"] as const) {
      const script = completionScript(shell, model);
      for (const spec of SPECS) {
        expect(script, `${shell}: ${spec.path.join(" ")}`).toContain(`' ${spec.path.join(" ")}'`);
        for (const flag of spec.flags) {
          for (const name of flag.flags.split(/[ ,]+/).filter((p) => p.startsWith("-"))) {
            expect(script, `${shell}: ${name}`).toContain(name);
          }
        }
      }
    }
  });

  it("the bundle prints a script bash and zsh accept; a shell it lacks is a usage error", () => {
    const bash = runBundle(dir, ["completion", "bash"]);
    expect(bash.status).toBe(0);
    expect(spawnSync("bash", ["-n"], { input: bash.stdout }).status).toBe(0);
    expect(bash.stdout).toContain("complete -F _contrast contrast");
    if (hasZsh) {
      const zsh = runBundle(dir, ["completion", "zsh"]);
      expect(zsh.stdout.startsWith("#compdef contrast\n")).toBe(true);
      expect(spawnSync("zsh", ["-n"], { input: zsh.stdout }).status).toBe(0);
    }
    const fish = runBundle(dir, ["completion", "fish"]);
    expect(fish.status).toBe(1);
    expect(fish.stderr).toContain("CLI_USAGE");
  });

  it("json output carries the script in the document", async () => {
    const r = await cli(["completion", "bash", "-o", "json"]);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout) as { ok: boolean; shell: string; script: string };
    expect(doc.ok).toBe(true);
    expect(doc.shell).toBe("bash");
    expect(doc.script).toContain("_contrast()");
  });
});
