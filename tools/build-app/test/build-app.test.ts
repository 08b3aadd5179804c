import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { expectCodeAsync, REPO_ROOT, scratchDir } from "@contrast/testkit";
import { describe, expect, it } from "vitest";
// @ts-expect-error: plain ESM tool without type declarations
import * as buildAppModule from "../src/index.mjs";

type Output = { path: string; bytes: number; sha256: string };
type Report = { bundles: { bundle: string; outputs: Output[]; bytes: number; inputs: { group: string }[] }[] };
const { buildApp, formatReport, inputGroup, nodeTarget, publishes } = buildAppModule as {
  buildApp: (
    dir: string,
    options?: { outDir?: string; defineJson?: Record<string, string>; env?: Record<string, string | undefined> },
  ) => Promise<Report>;
  formatReport: (bundles: Report["bundles"]) => string;
  inputGroup: (path: string) => string;
  nodeTarget: (range: unknown) => string | undefined;
  publishes: (files: readonly string[], path: string) => boolean;
};

const REPO = REPO_ROOT;
const CLI = join(REPO, "tools/build-app/src/cli.mjs");
const scratch = scratchDir("build-app-");

// A two-bundle app in the CLI's shape: a small entry that loads the rest only when needed.
const SOURCES = {
  "src/main.ts": [
    "declare const __FIXTURE_VERSION__: string;",
    "async function main(arg: string): Promise<void> {",
    "  if (arg === '--version') return console.log('fixture ' + __FIXTURE_VERSION__);",
    "  const { digest } = await import('./program.js');",
    "  console.log(digest(arg));",
    "}",
    "void main(process.argv[2] ?? '');",
  ].join("\n"),
  "src/program.ts": [
    "/*! @license fixture-licence: bundled code keeps its notice */",
    "import { createHash } from 'node:crypto';",
    "import { label } from './label.js';",
    "export function digest(s: string): string {",
    "  return label + ':' + createHash('sha256').update(s).digest('hex');",
    "}",
  ].join("\n"),
  "src/label.ts": "export const label = 'sha256';\n",
};

const PKG = {
  name: "@contrast/fixture",
  version: "1.2.3",
  engines: { node: ">=20.19" },
  bin: { fixture: "./dist/fixture.cjs" },
  files: ["dist/fixture.cjs", "dist/fixture-program.cjs", "dist/*.LEGAL.txt"],
  buildApp: {
    versionConstant: "__FIXTURE_VERSION__",
    bundles: [
      { entry: "src/main.ts", outfile: "dist/fixture.cjs", maxBytes: 4096 },
      { entry: "src/program.ts", outfile: "dist/fixture-program.cjs", importedAs: "./program.js" },
    ],
  },
};

let n = 0;
/** Writes the fixture app (with `edit` applied) to a new directory below `under`. */
function app(
  edit: (pkg: typeof PKG & Record<string, unknown>, src: Record<string, string>) => void = () => {},
  under = scratch,
) {
  const dir = join(under, `app-${n++}`);
  const pkg = structuredClone(PKG) as typeof PKG & Record<string, unknown>;
  const src: Record<string, string> = { ...SOURCES };
  edit(pkg, src);
  for (const [path, text] of Object.entries(src)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  writeFileSync(join(dir, "package.json"), JSON.stringify(pkg));
  return dir;
}

const node = (args: string[], cwd = "/") => spawnSync(process.execPath, args, { cwd, encoding: "utf8" });
const files = (dir: string) =>
  Object.fromEntries(
    readdirSync(join(dir, "dist"))
      .sort()
      .map((f) => [f, readFileSync(join(dir, "dist", f))]),
  );

describe("build-app", () => {
  it("bundles an app: shebang on its bin, the version, the lazy bundle loaded through require()", async () => {
    const dir = app();
    const report = await buildApp(dir);
    expect(Object.keys(files(dir))).toEqual([
      "fixture-program.cjs",
      "fixture-program.cjs.LEGAL.txt",
      "fixture-program.cjs.map",
      "fixture.cjs",
      "fixture.cjs.map",
    ]);
    const entry = readFileSync(join(dir, "dist/fixture.cjs"), "utf8");
    const program = readFileSync(join(dir, "dist/fixture-program.cjs"), "utf8");
    expect(entry.startsWith("#!/usr/bin/env node\n")).toBe(true);
    expect(program.startsWith("#!")).toBe(false);
    expect(entry).toContain('require("./fixture-program.cjs")');
    expect(entry).not.toContain("import(");
    expect(entry).not.toContain("createHash");
    expect(readFileSync(join(dir, "dist/fixture-program.cjs.LEGAL.txt"), "utf8")).toContain("fixture-licence");

    expect(node([join(dir, "dist/fixture.cjs"), "--version"]).stdout).toBe("fixture 1.2.3\n");
    const run = node([join(dir, "dist/fixture.cjs"), "abc"]);
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n");

    // The report: the bundle first, its size, and where the bytes come from.
    expect(report.bundles.map((b) => b.bundle)).toEqual(["dist/fixture.cjs", "dist/fixture-program.cjs"]);
    expect(report.bundles[0]?.outputs[0]?.path).toBe("dist/fixture.cjs");
    expect(report.bundles[0]?.bytes).toBe(Buffer.byteLength(entry));
    expect(report.bundles[1]?.inputs.map((i) => i.group)).toEqual(["(the app)"]);
    expect(formatReport(report.bundles)).toMatch(/^dist\/fixture\.cjs +\d+\.\d KiB {2}sha256:[0-9a-f]{16}$/m);
  });

  it("defineJson: a JSON file's value replaces the identifier; without a file it stays undefined", async () => {
    const dir = app((pkg, src) => {
      (pkg.buildApp as Record<string, unknown>).defineJson = { __FIXTURE_RELEASE__: "env:FIXTURE_RELEASE_JSON" };
      src["src/main.ts"] = [
        "declare const __FIXTURE_RELEASE__: { name: string; n: number[] } | undefined;",
        "console.log(typeof __FIXTURE_RELEASE__ === 'undefined' ? 'dev' : JSON.stringify(__FIXTURE_RELEASE__));",
        "export {};",
      ].join("\n");
      src["src/program.ts"] = "export {};\n";
      pkg.buildApp.bundles = [pkg.buildApp.bundles[0] as (typeof pkg.buildApp.bundles)[number]];
    });
    const json = join(scratch, "release.json");
    writeFileSync(json, '{ "name": "r", "n": [1, 2] }');

    await buildApp(dir, { env: {} });
    expect(node([join(dir, "dist/fixture.cjs")]).stdout).toBe("dev\n");
    await buildApp(dir, { env: { FIXTURE_RELEASE_JSON: json } });
    expect(node([join(dir, "dist/fixture.cjs")]).stdout).toBe('{"name":"r","n":[1,2]}\n');
    const out = join(scratch, "with-release");
    await buildApp(dir, { outDir: out, env: {}, defineJson: { __FIXTURE_RELEASE__: json } });
    expect(node([join(out, "fixture.cjs")]).stdout).toBe('{"name":"r","n":[1,2]}\n');

    writeFileSync(json, "{ not json");
    await expectCodeAsync(() => buildApp(dir, { env: { FIXTURE_RELEASE_JSON: json } }), "DEFINE_JSON_INVALID");
    await expectCodeAsync(() => buildApp(dir, { defineJson: { __OTHER__: json } }), "CONFIG_INVALID");
    const bad = app((pkg) => {
      (pkg.buildApp as Record<string, unknown>).defineJson = { __X__: "FIXTURE_RELEASE_JSON" };
    });
    await expectCodeAsync(() => buildApp(bad), "CONFIG_INVALID");
  });

  it("is reproducible: builds at other paths and times give the same bytes, with no absolute path inside", async () => {
    const a = app();
    const b = app(undefined, join(scratch, "deeper/still"));
    const ra = await buildApp(a);
    await new Promise((r) => setTimeout(r, 1100));
    const rb = await buildApp(b);
    expect(files(b)).toEqual(files(a));
    expect(rb.bundles).toEqual(ra.bundles);
    for (const bytes of Object.values(files(a))) expect(bytes.toString("latin1")).not.toContain(scratch);
  });

  it("builds the real CLI reproducibly, and the result runs on its own", async () => {
    const cli = join(REPO, "apps/cli");
    const [x, y] = [join(scratch, "cli-x"), join(scratch, "cli-y")];
    const rx = await buildApp(cli, { outDir: x });
    const ry = await buildApp(cli, { outDir: y });
    expect(ry.bundles).toEqual(rx.bundles);
    for (const f of readdirSync(x)) expect(readFileSync(join(y, f)).equals(readFileSync(join(x, f)))).toBe(true);
    const version = JSON.parse(readFileSync(join(cli, "package.json"), "utf8")).version;
    expect(node([join(x, "contrast.cjs"), "--version"]).stdout.trim()).toContain(version);
    const help = node([join(x, "contrast.cjs"), "--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("Usage: contrast");
  }, 120_000);

  it("refuses configurations it cannot build faithfully, with a code for each", async () => {
    const cases: [string, Parameters<typeof app>[0]][] = [
      ["CONFIG_INVALID", (p) => delete (p as Record<string, unknown>).buildApp],
      ["CONFIG_INVALID", (p) => Object.assign(p.buildApp, { minify: true })],
      ["CONFIG_INVALID", (p) => Object.assign(p, { engines: { node: "^20" } })],
      ["CONFIG_INVALID", (p) => Object.assign(p, { bin: { fixture: "./dist/other.cjs" } })],
      ["CONFIG_INVALID", (p) => Object.assign(p, { files: ["dist/fixture.cjs"] })],
      ["CONFIG_INVALID", (p) => Object.assign(p.buildApp, { external: ["left-pad"] })],
      ["CONFIG_INVALID", (p) => Object.assign(p.buildApp.bundles[1] as object, { outfile: "lib/x.cjs" })],
      ["CONFIG_INVALID", (p) => Object.assign(p.buildApp.bundles[0] as object, { entry: "src/missing.ts" })],
      ["BUDGET_EXCEEDED", (p) => Object.assign(p.buildApp.bundles[0] as object, { maxBytes: 100 })],
      ["OUTPUT_NOT_PUBLISHED", (p) => Object.assign(p, { files: ["dist/fixture.cjs", "dist/fixture-program.cjs"] })],
      ["LAZY_IMPORT_MISSING", (_, s) => Object.assign(s, { "src/main.ts": "console.log(1);\n" })],
      [
        "LAZY_IMPORT_FORM",
        (_, s) => Object.assign(s, { "src/main.ts": "import('./program.js').then((m) => console.log(m));\n" }),
      ],
    ];
    for (const [code, edit] of cases) await expectCodeAsync(() => buildApp(app(edit)), code);
  });

  it("runs as the `build-app` command: a report on success, a coded one-line error otherwise", () => {
    const good = node([CLI], app());
    expect(good.status).toBe(0);
    expect(good.stdout).toMatch(/^dist\/fixture\.cjs /m);
    const bad = node(
      [CLI],
      app((p) => Object.assign(p, { bin: { fixture: "./dist/nope.cjs" } })),
    );
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^build-app: CONFIG_INVALID: .*dist\/nope\.cjs/);
  });

  it("derives the target from engines.node, matches published files, and groups inputs", () => {
    expect(nodeTarget(">=20.19")).toBe("node20.19");
    expect(nodeTarget(">= 22")).toBe("node22");
    expect(nodeTarget("^20")).toBeUndefined();
    expect(publishes(["dist/*.LEGAL.txt"], "dist/a.cjs.LEGAL.txt")).toBe(true);
    expect(publishes(["dist/*.LEGAL.txt"], "dist/sub/a.LEGAL.txt")).toBe(false);
    expect(publishes(["dist"], "dist/a.cjs")).toBe(true);
    expect(publishes(["dist/a.cjs"], "dist/a.cjsx")).toBe(false);
    expect(inputGroup("../../node_modules/.pnpm/yaml@2.8.1/node_modules/yaml/dist/index.js")).toBe("yaml");
    expect(inputGroup("../../node_modules/.pnpm/@x+y@1/node_modules/@x/y/a.js")).toBe("@x/y");
    expect(inputGroup("../../packages/core/src/der.ts")).toBe("packages/core");
    expect(inputGroup("src/main.ts")).toBe("(the app)");
  });
});
