import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Option } from "commander";
import { describe, expect, it } from "vitest";
import { renderRegions, updateCliDoc } from "../src/cli-doc.js";
import { COMMANDS } from "../src/commands.js";
import { GLOBAL_FLAGS, GROUPS } from "../src/global-flags.js";
import { SPECS } from "../src/specs.js";
import { cli, REPO } from "./helpers.js";

const DOC = join(REPO, "docs/cli.md");

describe("docs/cli.md's generated tables", () => {
  it("are current (run `pnpm cli-doc` after changing a command's flags)", () => {
    const text = readFileSync(DOC, "utf8");
    expect(updateCliDoc(text)).toBe(text);
  });

  it("name every flag of every command with its default", () => {
    const regions = renderRegions();
    for (const spec of SPECS) {
      const table = regions.get(spec.path.join(" ")) as string;
      for (const f of spec.flags) {
        const row = table.split("\n").find((l) => l.startsWith(`| \`${f.flags}\` `));
        expect(row, f.flags).toBeDefined();
        const cells = (row as string).split(" | ").map((c) => c.trim());
        expect(cells[1]).toBe(f.default === undefined ? "" : `\`${f.default}\``);
      }
    }
  });

  it("refuse a document that lacks a command's region or has an unknown one", () => {
    const text = readFileSync(DOC, "utf8");
    const without = text.replace("<!-- cli-doc:policy check -->", "<!-- policy check -->");
    expect(() => updateCliDoc(without)).toThrow(/no region for "policy check"/);
    expect(() => updateCliDoc(`${text}\n<!-- cli-doc:policy nope -->\n<!-- /cli-doc -->\n`)).toThrow(/policy nope/);
    // A stale table is replaced, not appended to.
    const stale = text.replace("also fail on warnings", "also fail on warnungs");
    expect(stale).not.toBe(text);
    expect(updateCliDoc(stale)).toBe(text);
  });
});

describe("the commands' specs", () => {
  it("are what commander is configured with: every flag in --help, and no other", async () => {
    for (const spec of SPECS) {
      const help = await cli([...spec.path, "--help"]);
      expect(help.status).toBe(0);
      const listed = [...help.stdout.matchAll(/^ {2}((?:-\w, )?--[\w-]+)/gm)].map((m) => m[1]);
      const expected = [...spec.flags.map((f) => new Option(f.flags).long), "--help"];
      expect(listed.map((l) => (l as string).replace(/^-\w, /, ""))).toEqual(expected);
    }
    const top = await cli(["--help"]);
    for (const f of GLOBAL_FLAGS) expect(top.stdout).toContain(f.flags);
  });

  it("cover the command groups and top-level commands the entry file knows without loading the program", () => {
    const topLevel = SPECS.filter((s) => s.path.length === 1).map((s) => s.path[0]);
    expect([...COMMANDS].sort()).toEqual([...GROUPS.map((g) => g.name), ...topLevel].sort());
    expect([...new Set(SPECS.map((s) => s.path[0]))].sort()).toEqual([...COMMANDS].sort());
  });

  it("give a file default to the body only when the flag was given (looked up in --workspace-dir)", async () => {
    // With the default name unresolved, policy generate finds settings.json in --workspace-dir:
    // a broken one there must be read, so the command fails on it.
    const ws = (await import("./helpers.js")).tempDir();
    const { writeFileSync } = await import("node:fs");
    writeFileSync(join(ws, "settings.json"), "{ not json");
    writeFileSync(join(ws, "pod.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n");
    const r = await cli(["--workspace-dir", ws, "policy", "generate", join(ws, "pod.yaml")]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(join(ws, "settings.json"));
  });
});
