import { existsSync, readFileSync } from "node:fs";
import { dirname, join, normalize, posix } from "node:path";

/** A build-app failure: a stable `code` for tests and scripts, and a message that says what to fix. */
export class BuildAppError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   */
  constructor(code, message) {
    super(message);
    this.name = "BuildAppError";
    this.code = code;
  }
}

/**
 * @typedef {{ entry: string, outfile: string, importedAs?: string, maxBytes?: number, bin: boolean }} Bundle
 * @typedef {{ name: string, version: string, target: string, versionConstant?: string,
 *   defineJson: Record<string, string>, external: string[], bundles: Bundle[], files: string[] }} Plan
 */

const KEYS = new Set(["versionConstant", "defineJson", "external", "bundles"]);
const BUNDLE_KEYS = new Set(["entry", "outfile", "importedAs", "maxBytes"]);

/**
 * Reads and checks the `buildApp` section of an app's package.json. Everything an app may choose
 * is here; everything else (format, platform, source maps, legal comments, no minification) is the
 * shared policy in build.mjs.
 * @param {string} appDir
 * @returns {Plan}
 */
export function readPlan(appDir) {
  const pkgFile = join(appDir, "package.json");
  if (!existsSync(pkgFile)) throw new BuildAppError("CONFIG_INVALID", `${pkgFile} does not exist`);
  const pkg = JSON.parse(readFileSync(pkgFile, "utf8"));
  const where = `${pkg.name ?? pkgFile} package.json`;
  const fail = (message) => {
    throw new BuildAppError("CONFIG_INVALID", `${where}: ${message}`);
  };
  const config = pkg.buildApp;
  if (typeof config !== "object" || config === null || Array.isArray(config)) fail(`has no "buildApp" object`);
  for (const key of Object.keys(config)) if (!KEYS.has(key)) fail(`"buildApp.${key}" is not a known setting`);
  if (typeof pkg.version !== "string") fail(`has no "version"`);

  const target = nodeTarget(pkg.engines?.node);
  if (target === undefined) fail(`"engines.node" must be a lower bound such as ">=20.19" (it sets the esbuild target)`);

  if (config.versionConstant !== undefined && !/^[A-Za-z_$][\w$]*$/.test(config.versionConstant))
    fail(`"buildApp.versionConstant" must be an identifier`);

  // identifier → the environment variable naming a JSON file whose value replaces it (a release
  // build embeds its release.json so); an unset variable leaves the identifier undefined.
  const defineJson = config.defineJson ?? {};
  if (typeof defineJson !== "object" || defineJson === null || Array.isArray(defineJson))
    fail(`"buildApp.defineJson" must map identifiers to "env:VARIABLE"`);
  for (const [id, source] of Object.entries(defineJson)) {
    if (!/^[A-Za-z_$][\w$]*$/.test(id)) fail(`"buildApp.defineJson" key ${JSON.stringify(id)} must be an identifier`);
    if (id === config.versionConstant) fail(`"buildApp.defineJson.${id}" is already the versionConstant`);
    if (typeof source !== "string" || !/^env:[A-Za-z_][A-Za-z0-9_]*$/.test(source))
      fail(`"buildApp.defineJson.${id}" must be "env:VARIABLE" (the variable names a JSON file)`);
  }

  const external = config.external ?? [];
  if (!Array.isArray(external) || !external.every((e) => typeof e === "string"))
    fail(`"buildApp.external" must be a list of module names`);
  for (const name of external) {
    // An external module is require()d at run time, so it must be installed with the app.
    if (!(name in (pkg.dependencies ?? {})))
      fail(`"buildApp.external" lists ${name}, which is not in "dependencies" (it would be missing at run time)`);
  }

  const bins = new Set(
    Object.values(typeof pkg.bin === "string" ? { x: pkg.bin } : (pkg.bin ?? {})).map((p) => posix.normalize(p)),
  );
  if (!Array.isArray(config.bundles) || config.bundles.length === 0) fail(`"buildApp.bundles" must list bundles`);
  /** @type {Bundle[]} */
  const bundles = config.bundles.map((b, i) => {
    const at = `"buildApp.bundles[${i}]"`;
    if (typeof b !== "object" || b === null) fail(`${at} must be an object`);
    for (const key of Object.keys(b)) if (!BUNDLE_KEYS.has(key)) fail(`${at}.${key} is not a known setting`);
    if (typeof b.entry !== "string" || !existsSync(join(appDir, b.entry))) fail(`${at}.entry must name a source file`);
    if (typeof b.outfile !== "string" || !/^dist\/[\w.-]+\.cjs$/.test(b.outfile))
      fail(`${at}.outfile must be a .cjs file directly in dist/`);
    if (b.importedAs !== undefined && (typeof b.importedAs !== "string" || !b.importedAs.startsWith("./")))
      fail(`${at}.importedAs must be the relative specifier the other bundles import it by, such as "./program.js"`);
    if (b.maxBytes !== undefined && !(Number.isInteger(b.maxBytes) && b.maxBytes > 0))
      fail(`${at}.maxBytes must be a positive whole number`);
    return { ...b, bin: bins.has(b.outfile) };
  });

  const outfiles = bundles.map((b) => b.outfile);
  if (new Set(outfiles).size !== outfiles.length) fail(`two bundles write the same outfile`);
  for (const bin of bins) {
    if (!outfiles.includes(bin)) fail(`"bin" points at ${bin}, which no bundle writes`);
  }
  const files = Array.isArray(pkg.files) ? pkg.files : [];
  for (const out of outfiles) {
    if (!publishes(files, out)) fail(`"files" does not publish ${out}`);
  }
  // A bundle reaches a lazily loaded one by a path relative to itself; one directory keeps that simple.
  if (new Set(outfiles.map((o) => dirname(normalize(o)))).size !== 1) fail(`all bundles must be written to dist/`);

  return {
    name: pkg.name,
    version: pkg.version,
    target,
    versionConstant: config.versionConstant,
    defineJson,
    external,
    bundles,
    files,
  };
}

/**
 * ">=20.19" → "node20.19": the oldest Node the app supports is what esbuild must emit for.
 * @param {unknown} range
 */
export function nodeTarget(range) {
  if (typeof range !== "string") return undefined;
  const m = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(range.trim());
  if (!m) return undefined;
  return `node${[m[1], m[2], m[3]].filter((x) => x !== undefined).join(".")}`;
}

/**
 * True when the package.json "files" list publishes `path` (exact names and `*` within a name).
 * @param {readonly string[]} files
 * @param {string} path
 */
export function publishes(files, path) {
  return files.some((pattern) => {
    const p = posix.normalize(pattern).replace(/\/$/, "");
    if (p === path || path.startsWith(`${p}/`)) return true;
    const re = new RegExp(`^${p.split("*").map(escapeRegExp).join("[^/]*")}$`);
    return re.test(path);
  });
}

export const escapeRegExp = (s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
