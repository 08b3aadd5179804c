import { KubeError } from "./errors.js";
import { mutate, podTargets } from "./mutations.js";
import { isRecord } from "./workloads.js";
import { pathKeys, type YamlDocument, type YamlEdit } from "./yaml.js";

/** Image reference -> the reference to use instead (exact string match). */
export type ImageReplacements = ReadonlyMap<string, string>;

const LINE = /^([^\s=]+)\s*=\s*(\S+)$/;

/**
 * Parses an image replacements file (reference §2.2.3): one `<image> = <replacement>` per line;
 * blank lines and lines starting with `#` are ignored; a later line for the same image wins.
 * Every malformed line is reported, with its line number, in one KUBE_IMAGE_REPLACEMENTS_INVALID.
 */
export function parseImageReplacements(text: string, source = "image replacements"): ImageReplacements {
  const map = new Map<string, string>();
  const bad: { line: number; text: string }[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const m = LINE.exec(line);
    if (m === null) bad.push({ line: i + 1, text: raw });
    else map.set(m[1] as string, m[2] as string);
  });
  if (bad.length > 0) {
    const first = bad[0] as { line: number; text: string };
    const more =
      bad.length > 1
        ? ` (and ${bad.length - 1} more: lines ${bad
            .slice(1)
            .map((b) => b.line)
            .join(", ")})`
        : "";
    throw new KubeError(
      "KUBE_IMAGE_REPLACEMENTS_INVALID",
      `${source}:${first.line}: ${JSON.stringify(first.text)} is not "<image> = <replacement>"${more}`,
      {
        path: `${source}:${first.line}`,
        hint: "Write one `<image> = <replacement>` per line; blank lines and lines starting with # are ignored.",
      },
    );
  }
  return map;
}

/** Replaces the `image` of every container and init container that matches exactly. */
export function applyImageReplacements(doc: YamlDocument, replacements: ImageReplacements): YamlDocument {
  if (replacements.size === 0) return doc;
  return mutate(doc, (root) =>
    podTargets(root, {}).map((t) => {
      const base = pathKeys(`${t.itemPath}${t.specPath}`);
      const edits: YamlEdit[] = [];
      for (const key of ["initContainers", "containers"] as const) {
        const list = t.spec[key];
        if (!Array.isArray(list)) continue;
        list.forEach((c, i) => {
          if (!isRecord(c) || typeof c.image !== "string") return;
          const to = replacements.get(c.image);
          if (to !== undefined && to !== c.image) edits.push({ path: [...base, key, i, "image"], value: to });
        });
      }
      return edits;
    }),
  );
}
