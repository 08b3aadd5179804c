import { ImageError } from "./errors.js";

/**
 * An app's `"image"` section of package.json: what goes into its layer and how it runs.
 * `files` maps app-relative sources (a trailing `*` segment or `**` is a glob; a directory is
 * copied with its contents) to absolute in-image paths.
 */
export interface ImageSpec {
  readonly name: string;
  readonly files: Readonly<Record<string, string>>;
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly ports: readonly string[];
  readonly workdir: string;
  readonly user?: string;
  /**
   * Host programs copied into the app layer at the same path, with the shared libraries they
   * need beyond the runtime layer's (e.g. the node installer's `/usr/bin/nsenter`).
   */
  readonly hostFiles: readonly string[];
}

const KEYS = new Set(["name", "files", "entrypoint", "cmd", "env", "ports", "workdir", "user", "hostFiles"]);
/** A repository path component of the distribution spec. */
const NAME = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PORT = /^([0-9]{1,5})\/(tcp|udp|sctp)$/;

function invalid(where: string, message: string): ImageError {
  return new ImageError("IMAGE_SPEC_INVALID", `${where}: ${message}`, {
    hint: 'Fix the app\'s "image" section in package.json; docs/images.md describes its fields.',
    details: { where },
  });
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** True for "/a/b" without empty, "." or ".." segments and without NUL. */
export function isCleanAbsolutePath(p: string): boolean {
  if (!p.startsWith("/") || p.includes("\0")) return false;
  if (p === "/") return true;
  return p
    .slice(1)
    .split("/")
    .every((s) => s !== "" && s !== "." && s !== "..");
}

function isCleanRelativePath(p: string): boolean {
  return p !== "" && !p.startsWith("/") && !p.includes("\\") && isCleanAbsolutePath(`/${p}`);
}

function stringArray(where: string, field: string, v: unknown, nonEmpty: boolean): string[] {
  if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) {
    throw invalid(where, `"${field}" must be an array of strings`);
  }
  if (nonEmpty && v.length === 0) throw invalid(where, `"${field}" must not be empty`);
  if (v.some((s) => s.includes("\0"))) throw invalid(where, `"${field}" holds a NUL character`);
  return [...v];
}

/**
 * Validates an app's `"image"` section. `where` names the source for messages ("apps/coordinator/package.json").
 * Unknown keys are refused, so a misspelt field cannot silently do nothing.
 */
export function parseImageSpec(value: unknown, where: string): ImageSpec {
  if (!isRecord(value)) throw invalid(where, '"image" must be an object');
  for (const k of Object.keys(value)) {
    if (!KEYS.has(k)) throw invalid(where, `unknown field "image.${k}"`);
  }
  const { name, files, entrypoint, cmd, env, ports, workdir, user, hostFiles } = value;
  if (typeof name !== "string" || !NAME.test(name) || name.length > 128) {
    throw invalid(where, `"name" must be a lowercase repository name component (got ${JSON.stringify(name)})`);
  }
  if (!isRecord(files) || Object.keys(files).length === 0) throw invalid(where, '"files" must be a non-empty object');
  const fileMap: Record<string, string> = {};
  const targets = new Set<string>();
  for (const [from, to] of Object.entries(files)) {
    if (!isCleanRelativePath(from))
      throw invalid(where, `source ${JSON.stringify(from)} must be a clean app-relative path`);
    if (typeof to !== "string" || !isCleanAbsolutePath(to) || to === "/") {
      throw invalid(where, `target of ${from} must be a clean absolute path other than /`);
    }
    if (targets.has(to)) throw invalid(where, `two sources go to ${to}`);
    targets.add(to);
    fileMap[from] = to;
  }
  const entry = stringArray(where, "entrypoint", entrypoint, true);
  const command = cmd === undefined ? [] : stringArray(where, "cmd", cmd, false);
  const envMap: Record<string, string> = {};
  if (env !== undefined) {
    if (!isRecord(env)) throw invalid(where, '"env" must be an object of strings');
    for (const [k, v] of Object.entries(env)) {
      if (!ENV_KEY.test(k)) throw invalid(where, `environment variable name ${JSON.stringify(k)} is invalid`);
      if (typeof v !== "string" || v.includes("\0")) throw invalid(where, `environment variable ${k} must be a string`);
      envMap[k] = v;
    }
  }
  const portList = ports === undefined ? [] : stringArray(where, "ports", ports, false);
  for (const p of portList) {
    const m = PORT.exec(p);
    const n = Number(m?.[1]);
    if (m === null || n < 1 || n > 65535)
      throw invalid(where, `port ${JSON.stringify(p)} must be <1-65535>/<tcp|udp|sctp>`);
  }
  if (new Set(portList).size !== portList.length) throw invalid(where, "a port is listed twice");
  const dir = workdir ?? "/";
  if (typeof dir !== "string" || !isCleanAbsolutePath(dir))
    throw invalid(where, '"workdir" must be a clean absolute path');
  if (user !== undefined && (typeof user !== "string" || !/^[A-Za-z0-9_.-]+(?::[A-Za-z0-9_.-]+)?$/.test(user))) {
    throw invalid(where, '"user" must be "user" or "user:group" (names or ids)');
  }
  const hosts = hostFiles === undefined ? [] : stringArray(where, "hostFiles", hostFiles, false);
  for (const h of hosts) {
    if (!isCleanAbsolutePath(h) || h === "/")
      throw invalid(where, `host file ${JSON.stringify(h)} must be a clean absolute path`);
    if (targets.has(h)) throw invalid(where, `${h} is both a host file and a target of "files"`);
  }
  if (new Set(hosts).size !== hosts.length) throw invalid(where, "a host file is listed twice");
  return {
    name,
    files: fileMap,
    entrypoint: entry,
    cmd: command,
    env: envMap,
    ports: portList,
    workdir: dir,
    ...(user === undefined ? {} : { user: user as string }),
    hostFiles: hosts,
  };
}
