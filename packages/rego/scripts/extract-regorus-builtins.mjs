#!/usr/bin/env node
// Lists the built-in functions of a regorus source tree with their arity and the cargo feature
// that compiles each in, by reading the registration tables (`m.insert("name", (fn, arity))`)
// of src/builtins/*.rs and the `#[cfg(feature = ...)]` gates around them and around the
// modules in src/builtins/mod.rs. Output: JSON on stdout.
//
//   node extract-regorus-builtins.mjs <git-dir> <commit>
//
// The result is test data (testdata/rego/regorus-0.2.8/builtins.json): the dialect table in
// src/dialect-regorus.ts is checked against it, so the two cannot drift apart unnoticed.
import { execFileSync } from "node:child_process";

const [gitDir, commit] = process.argv.slice(2);
if (gitDir === undefined || commit === undefined) {
  process.stderr.write("usage: extract-regorus-builtins.mjs <git-dir> <commit>\n");
  process.exit(2);
}
const show = (path) => execFileSync("git", ["--git-dir", gitDir, "show", `${commit}:${path}`], { encoding: "utf8" });
const ls = (path) =>
  execFileSync("git", ["--git-dir", gitDir, "ls-tree", "--name-only", `${commit}`, `${path}/`], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l.endsWith(".rs"));

const FEATURE = /#\[cfg\(feature\s*=\s*"([^"]+)"\)\]/;
const INSERT = /m\.insert\(\s*"([^"]+)",\s*\(\s*[A-Za-z0-9_:]+\s*,\s*(\d+)\s*\)\s*,?\s*\)/g;

// Module gates: `#[cfg(feature = "x")] mod y;` in mod.rs, and which modules register at all.
const modRs = show("src/builtins/mod.rs");
const moduleFeature = new Map();
{
  const lines = modRs.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^\s*(?:pub\s+)?mod\s+([a-z_]+);/.exec(lines[i]);
    if (m === null) continue;
    const prev = FEATURE.exec(lines[i - 1] ?? "");
    moduleFeature.set(m[1], prev === null ? null : prev[1]);
  }
}
const registered = new Set();
for (const m of modRs.matchAll(/^\s*([a-z_]+)::register\(&mut m\);/gm)) {
  // A commented-out line (`//units::register`) does not match because of the leading `//`.
  registered.add(m[1]);
}

/** Inserts of one source text, each with the feature of the innermost enclosing cfg gate. */
function inserts(text, outerFeature) {
  const out = [];
  // rustfmt breaks long inserts over several lines; one line each keeps the scan simple.
  const lines = text.replace(/m\.insert\([^;]*?\);/gs, (s) => s.replace(/\s+/g, " ")).split("\n");
  // A stack of open braces; each entry is the feature that gates the block it opened (or null).
  const stack = [];
  let pending = null; // a cfg seen on the previous line, applying to the next statement or block
  for (const raw of lines) {
    const line = raw.replace(/\/\/.*$/, "");
    const cfg = FEATURE.exec(line);
    if (cfg !== null) {
      pending = cfg[1];
      continue;
    }
    const gate = () => [...stack].reverse().find((f) => f !== null) ?? null;
    for (const m of line.matchAll(INSERT)) {
      const feature = pending ?? gate() ?? outerFeature;
      out.push({ name: m[1], arity: Number(m[2]), feature });
    }
    for (const ch of line) {
      if (ch === "{") {
        stack.push(pending);
        pending = null;
      } else if (ch === "}") stack.pop();
    }
    if (line.trim() !== "") pending = null;
  }
  return out;
}

const builtins = [];
for (const file of ls("src/builtins")) {
  const mod = file.replace(/^src\/builtins\//, "").replace(/\.rs$/, "");
  if (mod === "mod" || mod === "deprecated" || !registered.has(mod)) continue;
  const text = show(file);
  const body = /pub fn register\([\s\S]*?\n}\n/.exec(text);
  if (body === null) continue;
  for (const b of inserts(body[0], moduleFeature.get(mod) ?? null)) builtins.push({ ...b, module: mod });
}
// Deprecated built-ins live in their own table, compiled in with the "deprecated" feature and
// refused in Rego v1 modules.
{
  const text = show("src/builtins/deprecated.rs");
  const table = /static ref DEPRECATED[\s\S]*?\n\s*};/.exec(text);
  if (table !== null) {
    for (const b of inserts(table[0], "deprecated")) {
      builtins.push({
        ...b,
        feature: b.feature === "deprecated" ? "deprecated" : `deprecated+${b.feature}`,
        module: "deprecated",
      });
    }
  }
}
builtins.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
const version = /^version\s*=\s*"([^"]+)"/m.exec(show("Cargo.toml"))?.[1];
process.stdout.write(
  `${JSON.stringify({ regorus: { version, commit, repository: "https://github.com/microsoft/regorus" }, builtins }, null, 2)}\n`,
);
