import type { ResourceRef, YamlFile } from "./findings.js";
import { isRecord, type JsonRecord, kubeObjects } from "./workloads.js";

/** One object of the input with where it came from. */
export interface SourcedObject {
  readonly object: JsonRecord;
  readonly ref: ResourceRef;
  /** Keys from the document's root to the object. */
  readonly path: readonly (string | number)[];
}

/** Every object of every file, Lists unwrapped, in input order. */
export function sourcedObjects(files: readonly YamlFile[]): SourcedObject[] {
  const out: SourcedObject[] = [];
  for (const file of files) {
    let index = 0;
    for (const doc of file.documents) {
      if (doc.preamble === true) continue;
      const document = index++;
      for (const { object, path } of kubeObjects(doc.value)) {
        const meta = isRecord(object.metadata) ? object.metadata : {};
        const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
        out.push({
          object,
          path,
          ref: {
            kind: str(object.kind) ?? "(no kind)",
            name: str(meta.name) ?? str(meta.generateName) ?? "(no name)",
            namespace: str(meta.namespace),
            source: file.source,
            document,
            line: doc.line,
            itemPath: itemPathOf(path),
          },
        });
      }
    }
  }
  return out;
}

/** ["items", 2, "items", 0] as "items[2].items[0]". */
export function itemPathOf(path: readonly (string | number)[]): string {
  return path
    .map((k) => (typeof k === "number" ? `[${k}]` : `.${k}`))
    .join("")
    .replace(/^\./, "");
}
