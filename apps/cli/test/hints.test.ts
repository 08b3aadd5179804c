import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SPECS } from "../src/specs.js";
import { REPO } from "./helpers.js";

/** The `contrast …` commands a text names in backticks, as their words before any flag or argument. */
export function namedCommands(text: string): string[] {
  return [...text.matchAll(/`contrast((?: [a-z][a-z-]*)*)/g)].map((m) => (m[1] as string).trim());
}

/** Every hint the libraries and the CLI give: the registries (docs/errors.md) and each throw site's. */
function hints(): { where: string; text: string }[] {
  const out: { where: string; text: string }[] = [];
  for (const line of readFileSync(join(REPO, "docs/errors.md"), "utf8").split("\n")) {
    const cells = line.split(" | ");
    if (cells.length >= 4) out.push({ where: `docs/errors.md ${cells[0]}`, text: cells.slice(3).join(" | ") });
  }
  const dirs = [
    ...readdirSync(join(REPO, "packages")).map((p) => join(REPO, "packages", p, "src")),
    join(REPO, "apps/cli/src"),
  ];
  for (const dir of dirs) {
    for (const file of readdirSync(dir, { recursive: true, encoding: "utf8" })) {
      if (!file.endsWith(".ts")) continue;
      const text = readFileSync(join(dir, file), "utf8");
      // hint: "…" and hint: `…`.
      for (const m of text.matchAll(/hint:\s*(?:"((?:[^"\\]|\\.)*)"|`((?:[^`\\]|\\.)*)`)/g)) {
        out.push({ where: `${dir}/${file}`, text: m[1] ?? m[2] ?? "" });
      }
      // Hints passed positionally (manifest issues): any one-line string that names a command.
      for (const m of text.matchAll(/"((?:[^"\\\n]|\\.)*`contrast [^"\n]*)"/g)) {
        out.push({ where: `${dir}/${file}`, text: m[1] ?? "" });
      }
    }
  }
  return out;
}

describe("hints", () => {
  it("name only commands the user can run today", () => {
    const runnable = new Set(["", ...SPECS.map((s) => s.path.join(" ")), ...SPECS.map((s) => s.path[0])]);
    const found = hints();
    expect(found.length).toBeGreaterThan(300);
    const named = found.flatMap((h) => namedCommands(h.text).map((c) => ({ ...h, command: c })));
    expect(named.length).toBeGreaterThan(5);
    expect(named.filter((n) => !runnable.has(n.command)).map((n) => `${n.where}: contrast ${n.command}`)).toEqual([]);
  });

  it("the check sees a command that does not exist", () => {
    expect(namedCommands("Run `contrast generate --reference-values x` first.")).toEqual(["generate"]);
    expect(namedCommands("Run `contrast policy generate` or `contrast --version`.")).toEqual(["policy generate", ""]);
  });
});
