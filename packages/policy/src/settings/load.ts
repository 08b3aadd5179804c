import { fromUtf8, parseJson } from "@contrast/core";
import { PolicyError } from "../errors.js";
import { applyJsonPatch, parseJsonPatch } from "./json-patch.js";
import type { Settings } from "./types.js";

/** One drop-in: a JSON Patch document and the name it is reported under. */
export interface SettingsDropIn {
  readonly name: string;
  readonly text: string | Uint8Array;
}

/**
 * Parses a settings document and applies its drop-ins in name order, as genpolicy applies the
 * files of `genpolicy-settings.d/` (RFC 6902 JSON Patch documents, e.g. `10-non-coco.json`).
 */
export function loadSettings(
  text: string | Uint8Array,
  dropIns: readonly SettingsDropIn[] = [],
  source = "settings.json",
): Settings {
  let doc: unknown = parseDocument(text, source);
  const ordered = [...dropIns].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const dropIn of ordered) {
    try {
      const patch = parseJsonPatch(parseDocument(dropIn.text, dropIn.name), dropIn.name);
      doc = applyJsonPatch(doc, patch, dropIn.name);
    } catch (e) {
      if (!(e instanceof PolicyError) || e.file !== undefined) throw e;
      // The operation's index and pointer are in the message; the file is the drop-in.
      throw new PolicyError(e.code, e.message, {
        hint: e.hint ?? "",
        cause: e.cause ?? e,
        file: dropIn.name,
        ...(e.path === undefined ? {} : { path: e.path }),
      });
    }
  }
  return validateSettings(doc, source);
}

function parseDocument(text: string | Uint8Array, source: string): unknown {
  try {
    return parseJson(typeof text === "string" ? text : fromUtf8(text), { source });
  } catch (e) {
    throw new PolicyError("POLICY_SETTINGS_INVALID", `${source} is not valid JSON`, {
      cause: e,
      file: source,
      hint: "The settings file and its drop-ins must be JSON documents.",
    });
  }
}

/** Checks the fields generation relies on, so a broken settings file fails here and not mid-pod. */
export function validateSettings(doc: unknown, source = "settings.json"): Settings {
  const fail = (path: string, what: string): never => {
    throw new PolicyError("POLICY_SETTINGS_INVALID", `${source}: ${path} ${what}`, {
      path,
      file: source,
      hint: "Start from the settings.json that `contrast policy generate` writes and apply changes as drop-ins.",
    });
  };
  const obj = (v: unknown, path: string): Record<string, unknown> =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : fail(path, "must be an object");
  const str = (v: unknown, path: string): string => (typeof v === "string" ? v : fail(path, "must be a string"));
  const strs = (v: unknown, path: string): void => {
    if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) fail(path, "must be an array of strings");
  };
  const root = obj(doc, "/");
  obj(root.pause_container, "/pause_container");
  obj(root.other_container, "/other_container");
  obj(root.volumes, "/volumes");
  const sandbox = obj(root.sandbox, "/sandbox");
  if (!Array.isArray(sandbox.storages)) fail("/sandbox/storages", "must be an array");
  const common = obj(root.common, "/common");
  str(common.cpath, "/common/cpath");
  str(common.sfprefix, "/common/sfprefix");
  strs(common.default_caps, "/common/default_caps");
  strs(common.privileged_caps, "/common/privileged_caps");
  const kata = obj(root.kata_config, "/kata_config");
  str(kata.oci_version, "/kata_config/oci_version");
  const cluster = obj(root.cluster_config, "/cluster_config");
  str(cluster.pause_container_image, "/cluster_config/pause_container_image");
  for (const key of ["guest_pull", "guest_pull_required"]) {
    if (cluster[key] !== undefined && typeof cluster[key] !== "boolean")
      fail(`/cluster_config/${key}`, "must be a boolean");
  }
  obj(root.request_defaults, "/request_defaults");
  for (const key of ["pause_container", "other_container"] as const) {
    const mounts = obj(root[key], `/${key}`).Mounts;
    if (mounts !== undefined) {
      if (!Array.isArray(mounts)) fail(`/${key}/Mounts`, "must be an array");
      (mounts as unknown[]).forEach((m, i) => {
        const mount = obj(m, `/${key}/Mounts/${i}`);
        str(mount.destination, `/${key}/Mounts/${i}/destination`);
        strs(mount.options, `/${key}/Mounts/${i}/options`);
      });
    }
  }
  return root as unknown as Settings;
}

/** Settings as JSON text, 4-space indented like genpolicy's own file, with a trailing newline. */
export function settingsToJson(settings: Settings): string {
  return `${JSON.stringify(settings, null, 4)}\n`;
}
