import type { CommandSpec, FlagSpec } from "./command-spec.js";
import { GLOBAL_FLAGS } from "./global-flags.js";
import { SPECS } from "./specs.js";

/**
 * docs/cli.md's generated regions: the global options, the exit-status table and each command's
 * argument and flag table, rendered from the same specs commander is configured from, so the
 * reference cannot drift from `--help`. Each region sits between `<!-- cli-doc:<name> -->` and
 * `<!-- /cli-doc -->`; `pnpm cli-doc` rewrites them and a test fails when they are stale.
 * Not part of the bundle: nothing the program runs imports this module.
 */
export function renderRegions(specs: readonly CommandSpec[] = SPECS): Map<string, string> {
  const regions = new Map<string, string>();
  regions.set("global", flagTable("option", [], GLOBAL_FLAGS));
  regions.set("exit", exitTable(specs));
  for (const spec of specs) regions.set(spec.path.join(" "), flagTable("argument or option", spec.args, spec.flags));
  return regions;
}

const BEGIN = /<!-- cli-doc:([a-z -]+) -->\n/g;
const END = "<!-- /cli-doc -->";

/**
 * The document with every region replaced by its rendering. Fails on a region without a rendering
 * and on a rendering without a region: a new command must get its section in docs/cli.md.
 */
export function updateCliDoc(markdown: string, regions: Map<string, string> = renderRegions()): string {
  const seen = new Set<string>();
  let out = "";
  let at = 0;
  for (const m of markdown.matchAll(BEGIN)) {
    const name = m[1] as string;
    const body = regions.get(name);
    if (body === undefined) throw new Error(`docs/cli.md: no generated table named "${name}"`);
    if (seen.has(name)) throw new Error(`docs/cli.md: region "${name}" appears twice`);
    seen.add(name);
    const start = (m.index as number) + m[0].length;
    const end = markdown.indexOf(END, start);
    if (end < 0) throw new Error(`docs/cli.md: region "${name}" has no ${END}`);
    out += markdown.slice(at, start) + body;
    at = end;
  }
  const missing = [...regions.keys()].filter((k) => !seen.has(k));
  if (missing.length > 0) throw new Error(`docs/cli.md: no region for ${missing.map((k) => `"${k}"`).join(", ")}`);
  return out + markdown.slice(at);
}

function flagTable(head: string, args: CommandSpec["args"], flags: readonly FlagSpec[]): string {
  const rows = [
    ...args.map((a) => [code(a.name), "", a.description]),
    ...flags.map((f) => [
      code(f.flags),
      f.default === undefined ? "" : code(f.default),
      `${f.doc ?? f.description}${f.choices === undefined ? "" : `; one of ${f.choices.map(code).join(", ")}`}${
        f.workspaceFile === true ? "; the default is looked up in `--workspace-dir`" : ""
      }`,
    ]),
  ];
  return table([head, "default", "meaning"], rows);
}

function exitTable(specs: readonly CommandSpec[]): string {
  const rows = specs.map((s) => [
    code(`contrast ${s.path.join(" ")}`),
    "done",
    "could not run",
    s.verdict ?? "only for an error of kind `policy`",
  ]);
  return table(["command", "0", "1", "2"], rows);
}

/** A table laid out as the formatter (biome) lays it out, so that formatting keeps it current. */
function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const cells = [head, ...rows].map((r) => r.map((c) => c.replace(/\|/g, "\\|")));
  const widths = head.map((_, i) => Math.max(3, ...cells.map((r) => [...(r[i] ?? "")].length)));
  const line = (r: readonly string[]) =>
    `| ${r.map((c, i) => c + " ".repeat((widths[i] as number) - [...c].length)).join(" | ")} |\n`;
  const [first, ...rest] = cells as [string[], ...string[][]];
  return line(first) + line(widths.map((w) => "-".repeat(w))) + rest.map(line).join("");
}

function code(text: string): string {
  return `\`${text}\``;
}
