import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { scratchDir } from "@contrast/testkit";
import { describe, expect, it } from "vitest";
import { ALLOWED_EDGES, edgesAreAcyclic } from "../src/layers.mjs";
// @ts-expect-error: plain ESM tool without type declarations
import { importsOf, lintWorkspace } from "../src/lint.mjs";
// Source snippets live in JSON so that the linter, run on this repository, does not take the
// fixtures' import statements for this test's own imports.
import src from "./sources.json" with { type: "json" };

type Problem = { where: string; rule: string; message: string };
const lint = lintWorkspace as (root: string) => Problem[];

function workspace(files: Record<string, string | object>): string {
  const root = scratchDir("ws-lint-");
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), typeof content === "string" ? content : JSON.stringify(content));
  }
  return root;
}

const lib = (name: string, deps: Record<string, string> = {}) => ({
  name: `@contrast/${name}`,
  version: "0.1.0",
  license: "Apache-2.0",
  files: ["dist"],
  engines: { node: ">=20.19" },
  sideEffects: false,
  exports: { ".": { types: "./dist/index.d.ts", default: "./dist/index.js" } },
  dependencies: deps,
});
const app = (name: string, deps: Record<string, string> = {}) => ({
  name: `@contrast/${name}`,
  version: "0.1.0",
  license: "Apache-2.0",
  files: ["dist"],
  engines: { node: ">=20.19" },
  bin: { [name]: "./dist/x.mjs" },
  devDependencies: deps,
});
const base = {
  "packages/core/package.json": lib("core"),
  "packages/core/README.md": "x",
  "packages/core/src/index.ts": src.coreIndex,
  "packages/manifest/package.json": lib("manifest", { "@contrast/core": "workspace:^" }),
  "packages/manifest/README.md": "x",
  "packages/manifest/src/index.ts": src.manifestIndex,
  "apps/cli/package.json": app("cli", { "@contrast/manifest": "workspace:^" }),
  "apps/cli/README.md": "x",
  "apps/cli/src/main.ts": src.cliMain,
};

describe("workspace-lint", () => {
  it("accepts a workspace that follows the rules, and the real repository", () => {
    expect(lint(workspace(base))).toEqual([]);
    const repo = join(dirname(fileURLToPath(import.meta.url)), "../../..");
    expect(lint(repo)).toEqual([]);
  });

  it("names an app like a library's directory <name>-app (apps/manifest next to packages/manifest)", () => {
    const files = (name: string) => ({
      ...base,
      "apps/manifest/package.json": { ...app("manifest"), name },
      "apps/manifest/README.md": "x",
      "apps/manifest/src/main.ts": "export {};\n",
    });
    expect(lint(workspace(files("@contrast/manifest-app"))).filter((p) => p.rule === "naming")).toEqual([]);
    expect(
      lint(workspace(files("@contrast/manifest")))
        .filter((p) => p.rule === "naming")
        .map((p) => p.message),
    ).toEqual(["package name @contrast/manifest should be @contrast/manifest-app"]);
  });

  it("forbids package -> app and app -> app imports", () => {
    const root = workspace({
      ...base,
      "packages/core/src/bad.ts": src.sideEffectImportOfApp,
      "apps/coordinator/package.json": app("coordinator", { "@contrast/cli": "workspace:^" }),
      "apps/coordinator/README.md": "x",
      "apps/coordinator/src/main.ts": src.dynamicImportOfApp,
    });
    const problems = lint(root);
    expect(problems.filter((p) => p.rule === "direction").map((p) => p.message)).toEqual(
      expect.arrayContaining([
        "packages/core must not depend on an app (@contrast/cli)",
        "apps/coordinator must not depend on an app (@contrast/cli)",
      ]),
    );
    expect(problems.some((p) => p.rule === "declared" && p.where === "packages/core/src/bad.ts")).toBe(true);
  });

  it("forbids edges missing from the explicit table, and undeclared or unused dependencies", () => {
    const root = workspace({
      ...base,
      "packages/core/package.json": lib("core", { "@contrast/manifest": "workspace:^" }),
      "packages/core/src/index.ts": src.coreReexportsManifest,
      "packages/manifest/src/index.ts": src.manifestPlain,
    });
    const messages = lint(root).map((p) => `${p.rule}: ${p.message}`);
    expect(messages).toContain(
      "direction: packages/core must not depend on packages/manifest; its allowed edges are: nothing (tools/workspace-lint/src/layers.mjs)",
    );
    expect(messages).toContain("declared: declares @contrast/core but never imports it");
  });

  it("forbids relative imports into another workspace", () => {
    const root = workspace({ ...base, "apps/cli/src/x.ts": src.relativeIntoPackage });
    expect(lint(root)).toEqual([expect.objectContaining({ rule: "relative", where: "apps/cli/src/x.ts" })]);
  });

  it("forbids an edge between two packages that the table does not list, even towards a lower package", () => {
    const root = workspace({
      ...base,
      "packages/rego/package.json": lib("rego", {
        "@contrast/core": "workspace:^",
        "@contrast/manifest": "workspace:^",
      }),
      "packages/rego/src/index.ts": src.regoImportsManifest,
      "packages/manifest/src/index.ts": src.manifestPlain,
    });
    const messages = lint(root).map((p) => `${p.rule}: ${p.message}`);
    expect(messages).toContain(
      "direction: packages/rego must not depend on packages/manifest; its allowed edges are: core (tools/workspace-lint/src/layers.mjs)",
    );
  });

  it("keeps the table of allowed edges acyclic and closed over known packages", () => {
    expect(edgesAreAcyclic()).toBe(true);
    expect(edgesAreAcyclic({ a: ["b"], b: ["a"] })).toBe(false);
    for (const deps of Object.values(ALLOWED_EDGES)) for (const d of deps) expect(ALLOWED_EDGES).toHaveProperty(d);
  });

  it("requires new packages to be given an entry in the table, and publishable metadata", () => {
    const root = workspace({
      ...base,
      "packages/newthing/package.json": { name: "@contrast/newthing", version: "0.1.0" },
    });
    const rules = lint(root).map((p) => p.rule);
    expect(rules).toContain("direction");
    expect(rules.filter((r) => r === "publishable").length).toBeGreaterThanOrEqual(5);
  });

  it("lets packages and apps use tools as devDependencies from tests and scripts, never from src", () => {
    const tools = {
      "tools/testkit/package.json": { name: "@contrast/testkit", private: true },
      "tools/testkit/src/index.ts": src.coreIndex,
      "tools/build-app/package.json": { name: "@contrast/build-app", private: true, bin: { "build-app": "./cli.mjs" } },
    };
    const good = workspace({
      ...base,
      ...tools,
      "packages/core/package.json": { ...lib("core"), devDependencies: { "@contrast/testkit": "workspace:*" } },
      "packages/core/test/x.test.ts": src.importsTestkit,
      "apps/cli/package.json": {
        ...app("cli", { "@contrast/manifest": "workspace:^", "@contrast/build-app": "workspace:*" }),
        scripts: { build: "build-app" },
      },
    });
    expect(lint(good)).toEqual([]);

    const bad = workspace({
      ...base,
      ...tools,
      "packages/core/package.json": { ...lib("core"), devDependencies: { "@contrast/testkit": "workspace:*" } },
      "packages/core/src/x.ts": src.importsTestkit,
      "packages/manifest/package.json": lib("manifest", {
        "@contrast/core": "workspace:^",
        "@contrast/testkit": "workspace:*",
      }),
      "packages/manifest/test/x.test.ts": src.importsTestkit,
      "apps/cli/package.json": app("cli", {
        "@contrast/manifest": "workspace:^",
        "@contrast/build-app": "workspace:*",
      }),
    });
    expect(lint(bad).map((p) => `${p.where} ${p.rule}: ${p.message}`)).toEqual(
      expect.arrayContaining([
        "packages/core/src/x.ts direction: packages/core/src must not import a tool (@contrast/testkit); tools serve tests, benchmarks and builds",
        "packages/manifest/package.json direction: packages/manifest may use a tool (@contrast/testkit) only as a devDependency",
        "apps/cli/package.json declared: declares @contrast/build-app but never imports it",
      ]),
    );
  });

  it("finds every import form", () => {
    expect(importsOf(src.allForms).sort()).toEqual(["a", "b", "c", "d", "e", "f", "g"]);
  });
});
