import type { Platform } from "@contrast/manifest";
import { stringify as stringifyToml, TomlError, type TomlTable } from "smol-toml";
import type { SnapshotterChoice } from "./config.js";
import { NodeInstallError } from "./errors.js";
import { kataConfigFileName, runtimeDir } from "./kata-config.js";
import { editToml, isTable, lookup, parseToml, type TomlEdit, type TomlPath } from "./toml-edit.js";

/** The shim's runtime type; containerd derives the binary name containerd-shim-contrast-cc-v2 from it. */
export const RUNTIME_TYPE = "io.containerd.contrast-cc.v2";
export const SHIM_BINARY = "containerd-shim-contrast-cc-v2";

/** The containerd configuration versions the installer patches: containerd 1.x (2) and 2.x (3). */
export type ContainerdConfigVersion = 2 | 3;

/** The CRI plugin that holds `containerd.runtimes`, per config version (containerd's own plugin ids). */
export function criRuntimePlugin(version: ContainerdConfigVersion): string {
  return version === 3 ? "io.containerd.cri.v1.runtime" : "io.containerd.grpc.v1.cri";
}

/** The plugin that holds `disable_snapshot_annotations`: split out of the CRI plugin in containerd 2. */
export function criImagesPlugin(version: ContainerdConfigVersion): string {
  return version === 3 ? "io.containerd.cri.v1.images" : "io.containerd.grpc.v1.cri";
}

export interface RuntimeEntry {
  readonly handler: string;
  /** The `containerd.runtimes.<handler>` table. */
  readonly table: TomlTable;
  /** A proxy snapshotter plugin the runtime uses, with its socket, if any. */
  readonly snapshotter: { readonly name: string; readonly address: string } | undefined;
}

/**
 * The runtime table for a handler: the Contrast shim from the runtime directory, Kata's pod
 * annotations passed through, and the Kata configuration as the shim's ConfigPath option. AKS
 * pulls images on the host through the tardev snapshotter; bare metal through nydus, each a
 * proxy plugin served by the DaemonSet's sidecar on a per-handler socket.
 */
export function runtimeEntry(platform: Platform, handler: string, snapshotter?: SnapshotterChoice): RuntimeEntry {
  const dir = runtimeDir(handler);
  const kind = snapshotter ?? defaultSnapshotter(platform);
  const podAnnotations = ["io.katacontainers.*"];
  // GPU pods carry CDI device annotations that the shim must see.
  if (platform.gpu) podAnnotations.push("cdi.k8s.io/*");
  const table: TomlTable = {
    runtime_type: RUNTIME_TYPE,
    runtime_path: `${dir}/bin/${SHIM_BINARY}`,
    pod_annotations: podAnnotations,
    privileged_without_host_devices: true,
  };
  let proxy: RuntimeEntry["snapshotter"];
  if (kind !== "none") {
    const name = `${kind}-${handler}`;
    table.snapshotter = name;
    const address =
      kind === "tardev"
        ? `/run/containerd/tardev-snapshotter-${handler}.sock`
        : `/run/containerd/containerd-nydus-grpc-${handler}.sock`;
    proxy = { name, address };
  }
  table.options = { ConfigPath: `${dir}/etc/${kataConfigFileName(platform)}` };
  return { handler, table, snapshotter: proxy };
}

/** v1.5's choice: tardev on AKS, nydus on bare metal. */
export function defaultSnapshotter(platform: Platform): SnapshotterChoice {
  return platform.id === "aks-clh-snp" ? "tardev" : "nydus";
}

export interface PatchResult {
  readonly text: string;
  readonly changed: boolean;
  /** How the text came about; "created" when there was no file. */
  readonly how: "created" | "unchanged" | "edited" | "rewritten" | "appended-to-template";
  readonly version: ContainerdConfigVersion;
}

/** A block the installer appends to a Go-template file, between these marker comments. */
const beginMarker = (handler: string) => `# BEGIN contrast runtime ${handler} (managed by the Contrast node installer)`;
const endMarker = (handler: string) => `# END contrast runtime ${handler}`;

/**
 * Adds the runtime to a containerd configuration. `existing` undefined: a new file (version 2,
 * which containerd 1.7 reads and containerd 2 migrates on load). A file without `version` is
 * version 1 (deprecated, not patched) unless it is empty. Text with Go template actions (a K3s
 * or RKE2 `config.toml.tmpl` using `{{ template "base" . }}`) cannot be parsed as TOML; the
 * runtime's tables are then kept in a marked block at the end that a later run replaces.
 */
export function patchContainerdConfig(
  existing: string | undefined,
  entry: RuntimeEntry,
  /** The version a Go template renders to when its text does not say (K3s: config-v3.toml.tmpl is 3). */
  templateVersion: ContainerdConfigVersion = 2,
): PatchResult {
  let document: TomlTable;
  try {
    document = existing === undefined ? {} : parseToml(existing);
  } catch (e) {
    // Only text that is not TOML is taken for a template: "{{" may well sit inside a TOML string.
    if (existing?.includes("{{")) return patchTemplate(existing, entry, templateVersion);
    throw configInvalid(e);
  }
  const version = configVersion(document, existing === undefined || existing.trim() === "");
  const edits = editsFor(version, entry);
  const base = existing === undefined || existing.trim() === "" ? `version = ${version}\n` : existing;
  let result: ReturnType<typeof editToml>;
  try {
    result = editToml(base, edits);
  } catch (e) {
    throw configInvalid(e);
  }
  checkRuntimeRegistered(result.text, entry.handler, entry.table);
  const changed = result.text !== existing;
  return { text: result.text, changed, how: existing === undefined ? "created" : result.how, version };
}

function editsFor(version: ContainerdConfigVersion, entry: RuntimeEntry): TomlEdit[] {
  const edits: TomlEdit[] = [{ kind: "table", table: runtimeTablePath(version, entry.handler), value: entry.table }];
  if (entry.snapshotter !== undefined) {
    edits.push({
      kind: "table",
      table: ["proxy_plugins", entry.snapshotter.name],
      value: { type: "snapshot", address: entry.snapshotter.address },
    });
    // Snapshotters that pull inside the guest or on demand need the CRI's image annotations.
    edits.push({
      kind: "scalar",
      table: criImagesPluginPath(version),
      key: "disable_snapshot_annotations",
      value: false,
    });
  }
  return edits;
}

function runtimeTablePath(version: ContainerdConfigVersion, handler: string): TomlPath {
  return ["plugins", criRuntimePlugin(version), "containerd", "runtimes", handler];
}

function criImagesPluginPath(version: ContainerdConfigVersion): TomlPath {
  return version === 3 ? ["plugins", criImagesPlugin(3)] : ["plugins", criImagesPlugin(2), "containerd"];
}

function configVersion(document: TomlTable, empty: boolean): ContainerdConfigVersion {
  const v = document.version;
  if (v === 2 || v === 3) return v;
  if (v === undefined && empty) return 2;
  throw new NodeInstallError(
    "NODE_INSTALL_CONTAINERD_CONFIG_VERSION",
    v === undefined
      ? "the containerd configuration has no version key, so it is version 1, which the installer does not patch"
      : `the containerd configuration has version ${JSON.stringify(v)}; the installer patches versions 2 and 3`,
  );
}

function patchTemplate(existing: string, entry: RuntimeEntry, defaultVersion: ContainerdConfigVersion): PatchResult {
  const begin = beginMarker(entry.handler);
  const end = endMarker(entry.handler);
  const first = existing.indexOf(begin);
  let head = existing;
  let tail = "";
  if (first >= 0) {
    const last = existing.indexOf(end, first);
    if (last < 0) {
      throw configInvalid(new Error(`the template has "${begin}" without "${end}"`));
    }
    head = existing.slice(0, first);
    tail = existing.slice(last + end.length).replace(/^\n/, "");
  }
  // A template's version follows its base: K3s renders config-v3.toml.tmpl and a `version = 3`
  // base for containerd 2; the version line, when the template has one, says which.
  const versionLine = /^\s*version\s*=\s*(\d+)\s*$/m.exec(existing)?.[1];
  const version: ContainerdConfigVersion = versionLine === "3" ? 3 : versionLine === "2" ? 2 : defaultVersion;
  const tables: TomlEdit[] = editsFor(version, entry).filter((e) => e.kind === "table");
  const body = tablesText(tables);
  const block = `${begin}\n${body}${end}\n`;
  const text =
    first >= 0
      ? `${head}${block}${tail}`
      : `${existing}${existing === "" || existing.endsWith("\n") ? "\n" : "\n\n"}${block}`;
  checkRuntimeRegistered(body, entry.handler, entry.table, version);
  return { text, changed: text !== existing, how: text === existing ? "unchanged" : "appended-to-template", version };
}

function tablesText(edits: readonly TomlEdit[]): string {
  let document: TomlTable = {};
  for (const e of edits) {
    if (e.kind !== "table") continue;
    let cur = document;
    for (const key of e.table.slice(0, -1)) {
      cur[key] = isTable(cur[key]) ? cur[key] : {};
      cur = cur[key] as TomlTable;
    }
    cur[e.table[e.table.length - 1] as string] = e.value;
  }
  document = structuredClone(document);
  return stringifyTables(document);
}

function stringifyTables(document: TomlTable): string {
  // The tables alone: smol-toml omits intermediate tables that hold only tables.
  return `${stringifyToml(document).trim()}\n`;
}

/**
 * The post-check: the written configuration registers the handler with our runtime type and
 * shim. Without it containerd answers every pod with "no runtime for <handler> is configured".
 */
export function checkRuntimeRegistered(
  text: string,
  handler: string,
  expected?: TomlTable,
  versionOfTemplate?: ContainerdConfigVersion,
): void {
  const fail = (why: string) =>
    new NodeInstallError(
      "NODE_INSTALL_RUNTIME_NOT_REGISTERED",
      `the containerd configuration does not register runtime ${handler}: ${why}`,
    );
  let document: TomlTable;
  try {
    document = parseToml(text);
  } catch (e) {
    throw fail(`it is not valid TOML (${e instanceof Error ? e.message.split("\n")[0] : String(e)})`);
  }
  const version = versionOfTemplate ?? (document.version === 3 ? 3 : 2);
  const table = lookup(document, runtimeTablePath(version, handler));
  if (!isTable(table)) throw fail(`no table plugins."${criRuntimePlugin(version)}".containerd.runtimes.${handler}`);
  if (table.runtime_type !== RUNTIME_TYPE) throw fail(`runtime_type is ${JSON.stringify(table.runtime_type)}`);
  const want = expected?.runtime_path;
  if (typeof table.runtime_path !== "string" || (want !== undefined && table.runtime_path !== want)) {
    throw fail(`runtime_path is ${JSON.stringify(table.runtime_path)}`);
  }
}

function configInvalid(cause: unknown): NodeInstallError {
  const detail =
    cause instanceof TomlError ? cause.message.split("\n")[0] : cause instanceof Error ? cause.message : String(cause);
  return new NodeInstallError(
    "NODE_INSTALL_CONTAINERD_CONFIG_INVALID",
    `the containerd configuration cannot be patched: ${detail}`,
    {
      cause,
    },
  );
}
