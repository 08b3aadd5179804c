import { ContrastError, type JsonValue, parseJson } from "@contrast/core";
import { NodeInstallError } from "./errors.js";
import { type Integrity, parseIntegrity } from "./sri.js";

/** The file name the installer reads from its config directory (a mounted ConfigMap). */
export const INSTALL_CONFIG_FILE = "contrast-node-install.json";

/** Stands for the runtime handler in a target path, as upstream's configuration writes it. */
export const RUNTIME_NAME_PLACEHOLDER = "@@runtimeName@@";

/** Every runtime's files live below this host directory, one subdirectory per handler. */
export const RUNTIME_BASE_DIR = "/opt/edgeless";

export interface InstallFile {
  /** `file://`, `http://` or `https://`. */
  readonly url: string;
  /** Absolute host path, possibly with RUNTIME_NAME_PLACEHOLDER. */
  readonly path: string;
  /** The SRI string as written, and parsed; absent only for file:// sources. */
  readonly integrity: { readonly text: string; readonly parsed: Integrity } | undefined;
  readonly executable: boolean;
}

export interface InstallConfig {
  readonly files: readonly InstallFile[];
  readonly debugRuntime: boolean;
  /** The versioned handler (contrast-cc-<platform>-<hash>); may instead come from the command line. */
  readonly runtimeHandler: string | undefined;
  /** Replaces the guest kernel command line of QEMU platforms (upstream's NEWER field). */
  readonly qemuExtraKernelParams: string | undefined;
  /**
   * How images reach the guest: through a proxy snapshotter the DaemonSet serves (v1.5: nydus on
   * bare metal, tardev on AKS), or "none": the guest pulls them itself (Kata's force_guest_pull,
   * as newer upstream releases do). Absent: the platform's v1.5 choice.
   */
  readonly snapshotter: SnapshotterChoice | undefined;
}

export type SnapshotterChoice = "nydus" | "tardev" | "none";
const SNAPSHOTTERS: readonly SnapshotterChoice[] = ["nydus", "tardev", "none"];

const TOP_KEYS = new Set(["files", "debugRuntime", "runtimeHandler", "qemuExtraKernelParams", "snapshotter"]);
const FILE_KEYS = new Set(["url", "path", "integrity", "executable"]);
const MAX_CONFIG_BYTES = 1 << 20;

/**
 * Parses contrast-node-install.json. Stricter than upstream's decoder, which ignores unknown
 * fields: a misspelt "integrity" must not turn a checked download into an unchecked one.
 */
export function parseInstallConfig(bytes: Uint8Array | string): InstallConfig {
  let doc: JsonValue;
  try {
    doc = parseJson(bytes, { maxBytes: MAX_CONFIG_BYTES, source: INSTALL_CONFIG_FILE });
  } catch (e) {
    throw invalid(`not valid JSON: ${ContrastError.from(e).message}`, e);
  }
  const top = object(doc, "the document");
  for (const key of Object.keys(top)) if (!TOP_KEYS.has(key)) throw invalid(`unknown field ${JSON.stringify(key)}`);
  const filesValue = top.files ?? [];
  if (!Array.isArray(filesValue)) throw invalid("files must be an array");
  const files = filesValue.map((f, i) => parseFile(f, `files[${i}]`));
  const seen = new Set<string>();
  for (const f of files) {
    if (seen.has(f.path)) throw invalid(`two files have the target path ${JSON.stringify(f.path)}`);
    seen.add(f.path);
  }
  return {
    files,
    debugRuntime: optionalBoolean(top.debugRuntime, "debugRuntime") ?? false,
    runtimeHandler: optionalString(top.runtimeHandler, "runtimeHandler"),
    qemuExtraKernelParams: optionalString(top.qemuExtraKernelParams, "qemuExtraKernelParams"),
    snapshotter: snapshotter(top.snapshotter),
  };
}

function snapshotter(value: JsonValue | undefined): SnapshotterChoice | undefined {
  const s = optionalString(value, "snapshotter");
  if (s === undefined) return undefined;
  if (!(SNAPSHOTTERS as readonly string[]).includes(s))
    throw invalid(`snapshotter must be one of ${SNAPSHOTTERS.join(", ")}`);
  return s as SnapshotterChoice;
}

function parseFile(value: JsonValue, where: string): InstallFile {
  const o = object(value, where);
  for (const key of Object.keys(o)) {
    if (!FILE_KEYS.has(key)) throw invalid(`${where}: unknown field ${JSON.stringify(key)}`);
  }
  const url = optionalString(o.url, `${where}.url`);
  if (url === undefined) throw invalid(`${where}.url is required`);
  const scheme = /^([a-z]+):\/\//.exec(url)?.[1];
  if (scheme !== "file" && scheme !== "http" && scheme !== "https") {
    throw invalid(`${where}.url ${JSON.stringify(url)} is not a file://, http:// or https:// URL`);
  }
  if (!URL.canParse(url)) throw invalid(`${where}.url ${JSON.stringify(url)} is not a URL`);
  const path = optionalString(o.path, `${where}.path`);
  if (path === undefined) throw invalid(`${where}.path is required`);
  checkTargetPath(path, where);
  const integrityText = optionalString(o.integrity, `${where}.integrity`);
  let integrity: InstallFile["integrity"];
  if (integrityText !== undefined && integrityText !== "") {
    integrity = { text: integrityText, parsed: parseIntegrity(integrityText) };
  } else if (scheme !== "file") {
    throw new NodeInstallError(
      "NODE_INSTALL_INTEGRITY_REQUIRED",
      `${where}: ${url} is fetched over ${scheme} but has no integrity value`,
    );
  }
  return { url, path, integrity, executable: optionalBoolean(o.executable, `${where}.executable`) ?? false };
}

// Segments of a target path: letters, digits and ._-@ only, so that no path can climb out of
// RUNTIME_BASE_DIR or name something odd on the host.
const SEGMENT = /^[A-Za-z0-9._@+-]+$/;

function checkTargetPath(path: string, where: string): void {
  const bad = (why: string) => invalid(`${where}.path ${JSON.stringify(path)} ${why}`);
  if (!path.startsWith(`${RUNTIME_BASE_DIR}/`)) throw bad(`is not below ${RUNTIME_BASE_DIR}/`);
  const segments = path.split("/").slice(1);
  for (const s of segments) {
    if (s === "" || s === "." || s === "..") throw bad("has an empty, . or .. segment");
    if (!SEGMENT.test(s)) throw bad("has a segment with characters other than A-Z a-z 0-9 . _ @ + -");
  }
  if (segments.length < 4) throw bad(`names no file inside a runtime directory (${RUNTIME_BASE_DIR}/<handler>/...)`);
}

/** The host path of a configured file for one handler: the placeholder replaced. */
export function resolveTargetPath(path: string, handler: string): string {
  return path.split(RUNTIME_NAME_PLACEHOLDER).join(handler);
}

function object(value: JsonValue, where: string): Record<string, JsonValue> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw invalid(`${where} must be an object`);
  return value as Record<string, JsonValue>;
}

function optionalString(value: JsonValue | undefined, where: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw invalid(`${where} must be a string`);
  return value;
}

function optionalBoolean(value: JsonValue | undefined, where: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") throw invalid(`${where} must be true or false`);
  return value;
}

function invalid(message: string, cause?: unknown): NodeInstallError {
  return new NodeInstallError("NODE_INSTALL_CONFIG_INVALID", `${INSTALL_CONFIG_FILE}: ${message}`, { cause });
}
