import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { ALLOWED_EDGES, SCOPE } from "./layers.mjs";

const KINDS = ["packages", "apps", "tools"];
const SOURCE = /\.(?:[cm]?[jt]s|tsx)$/;
const SKIP_DIRS = new Set(["node_modules", "dist", ".turbo", "coverage"]);
// Static imports and re-exports, dynamic import(), require(); comments are not parsed, which errs
// on the side of reporting.
const SPECIFIERS = [
  /\b(?:import|export)\s[^'"]*?\bfrom\s*["']([^"']+)["']/g,
  /\bimport\s*["']([^"']+)["']/g,
  /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
  /\brequire\s*\(\s*["']([^"']+)["']\s*\)/g,
];

/** Lists the workspaces under packages/, apps/ and tools/ of `root`. */
export function readWorkspaces(root) {
  const out = [];
  for (const kind of KINDS) {
    const base = join(root, kind);
    if (!existsSync(base)) continue;
    for (const name of readdirSync(base).sort()) {
      const dir = join(base, name);
      const pkgFile = join(dir, "package.json");
      if (!statSync(dir).isDirectory() || !existsSync(pkgFile)) continue;
      out.push({ kind, name, dir, pkg: JSON.parse(readFileSync(pkgFile, "utf8")) });
    }
  }
  return out;
}

function sourceFiles(dir) {
  const files = [];
  const walk = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (!SKIP_DIRS.has(entry.name)) walk(join(d, entry.name));
      } else if (SOURCE.test(entry.name) && !entry.name.endsWith(".d.ts")) files.push(join(d, entry.name));
    }
  };
  walk(dir);
  return files;
}

export function importsOf(text) {
  const found = new Set();
  for (const re of SPECIFIERS) for (const m of text.matchAll(re)) found.add(m[1]);
  return [...found];
}

/**
 * Returns a list of problems: `{ where, rule, message }`. Rules:
 * - direction: packages -> lower-layer packages only; apps -> packages; tools -> packages.
 *   Packages and apps may use a tool (test helpers, the app bundler) only as a devDependency and
 *   never from `src/`: tools serve tests, benchmarks and builds, not what is published.
 * - declared: every @contrast/* import is declared in package.json (and the reverse: a declared
 *   one is imported, or its bin is run by one of the package's scripts).
 * - relative: no relative import reaches into another workspace.
 * - publishable: non-private workspaces have README, exports/bin, files, version, engines.
 */
export function lintWorkspace(root) {
  const problems = [];
  const workspaces = readWorkspaces(root);
  const byName = new Map(workspaces.map((w) => [w.pkg.name, w]));
  const report = (where, rule, message) => problems.push({ where: relative(root, where) || ".", rule, message });

  const packageDirs = new Set(workspaces.filter((w) => w.kind === "packages").map((w) => w.name));
  for (const w of workspaces) {
    // An app named like a library (apps/coordinator next to packages/coordinator) takes "-app".
    const appSuffix = w.kind === "apps" && packageDirs.has(w.name) ? "-app" : "";
    const expectedName =
      w.kind === "packages" || w.kind === "apps" || w.kind === "tools" ? `${SCOPE}${w.name}${appSuffix}` : undefined;
    if (w.pkg.name !== expectedName) report(w.dir, "naming", `package name ${w.pkg.name} should be ${expectedName}`);
    if (w.kind === "packages" && !(w.name in ALLOWED_EDGES)) {
      report(
        w.dir,
        "direction",
        `packages/${w.name} has no entry in the table of allowed edges; add it to tools/workspace-lint/src/layers.mjs`,
      );
    }
    const declared = new Set(
      ["dependencies", "devDependencies", "peerDependencies", "optionalDependencies"].flatMap((k) =>
        Object.keys(w.pkg[k] ?? {}),
      ),
    );
    const devOnly = new Set(
      Object.keys(w.pkg.devDependencies ?? {}).filter((d) =>
        ["dependencies", "peerDependencies", "optionalDependencies"].every((k) => !(d in (w.pkg[k] ?? {}))),
      ),
    );
    const srcDir = join(w.dir, "src");

    // `file` is the importing file, or undefined for a package.json declaration.
    const allowed = (target, file) => {
      if (target.kind === "apps") return `${w.kind}/${w.name} must not depend on an app (${target.pkg.name})`;
      if (target.kind === "tools" && w.kind !== "tools") {
        if (!devOnly.has(target.pkg.name))
          return `${w.kind}/${w.name} may use a tool (${target.pkg.name}) only as a devDependency`;
        if (file?.startsWith(srcDir + sep))
          return `${w.kind}/${w.name}/src must not import a tool (${target.pkg.name}); tools serve tests, benchmarks and builds`;
      }
      if (w.kind === "packages" && target.kind === "packages") {
        const mine = ALLOWED_EDGES[w.name];
        if (mine !== undefined && !mine.includes(target.name)) {
          const list = mine.length === 0 ? "nothing" : mine.join(", ");
          return `packages/${w.name} must not depend on packages/${target.name}; its allowed edges are: ${list} (tools/workspace-lint/src/layers.mjs)`;
        }
      }
      return undefined;
    };

    for (const dep of declared) {
      const target = byName.get(dep);
      if (!target) continue;
      const why = target === w ? `${w.pkg.name} depends on itself` : allowed(target);
      if (why) report(join(w.dir, "package.json"), "direction", why);
    }

    const used = new Set(binsRunByScripts(w.pkg, workspaces));
    for (const file of sourceFiles(w.dir)) {
      const text = readFileSync(file, "utf8");
      for (const spec of importsOf(text)) {
        if (spec.startsWith(".")) {
          const target = resolve(dirname(file), spec);
          const inside = target === w.dir || target.startsWith(w.dir + sep);
          const other = workspaces.find((o) => o !== w && (target === o.dir || target.startsWith(o.dir + sep)));
          if (!inside && other) {
            report(
              file,
              "relative",
              `relative import ${spec} reaches into ${other.kind}/${other.name}; import ${other.pkg.name} instead`,
            );
          }
          continue;
        }
        const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
        const target = byName.get(name);
        if (!target) continue;
        used.add(name);
        if (target === w) continue;
        if (!declared.has(name))
          report(file, "declared", `imports ${name} but ${w.pkg.name} does not declare it in package.json`);
        const why = allowed(target, file);
        if (why) report(file, "direction", why);
      }
    }
    for (const dep of declared) {
      if (byName.has(dep) && !used.has(dep))
        report(join(w.dir, "package.json"), "declared", `declares ${dep} but never imports it`);
    }

    if (!w.pkg.private) checkPublishable(w, report);
  }
  return problems;
}

/** The workspaces whose bin one of `pkg`'s scripts runs (`"build": "build-app"` uses @contrast/build-app). */
function binsRunByScripts(pkg, workspaces) {
  const scripts = Object.values(pkg.scripts ?? {}).join("\n");
  const words = new Set(scripts.split(/[\s;&|()]+/));
  return workspaces
    .filter((o) => o.pkg !== pkg && Object.keys(binsOf(o.pkg)).some((bin) => words.has(bin)))
    .map((o) => o.pkg.name);
}

function binsOf(pkg) {
  if (typeof pkg.bin === "string") return { [pkg.name.split("/").pop()]: pkg.bin };
  return pkg.bin ?? {};
}

function checkPublishable(w, report) {
  const need = (cond, message) => {
    if (!cond) report(join(w.dir, "package.json"), "publishable", message);
  };
  need(existsSync(join(w.dir, "README.md")), `${w.pkg.name} has no README.md`);
  need(typeof w.pkg.version === "string", `${w.pkg.name} has no version`);
  need(Array.isArray(w.pkg.files) && w.pkg.files.length > 0, `${w.pkg.name} has no "files" list`);
  need(w.pkg.engines?.node !== undefined, `${w.pkg.name} does not declare engines.node`);
  need(typeof w.pkg.license === "string", `${w.pkg.name} has no licence`);
  if (w.kind === "packages") {
    const root = w.pkg.exports?.["."];
    need(
      root?.types?.startsWith("./dist/") && root?.default?.startsWith("./dist/"),
      `${w.pkg.name} exports "." must point at built files and types in dist/`,
    );
    need(existsSync(join(w.dir, "src/index.ts")), `${w.pkg.name} has no src/index.ts (its one public door)`);
    need(w.pkg.sideEffects === false, `${w.pkg.name} should declare "sideEffects": false`);
  } else {
    need(w.pkg.bin !== undefined, `${w.pkg.name} (an app) should declare its bin`);
  }
}
