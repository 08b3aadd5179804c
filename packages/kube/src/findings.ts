import type { KubeFindingCode } from "./error-codes.js";
import type { YamlDocument } from "./yaml.js";

/** The documents of one file, named for messages (a path, or "stdin"). */
export interface YamlFile {
  readonly source: string;
  readonly documents: readonly YamlDocument[];
}

/** The resource a finding is about, precise enough to find it in the input. */
export interface ResourceRef {
  readonly kind: string;
  readonly name: string;
  readonly namespace: string | undefined;
  /** The file it came from. */
  readonly source: string;
  /** 0-based index of its document in the file (a comment preamble not counted). */
  readonly document: number;
  /** 1-based line of its document's first line. */
  readonly line: number;
  /** Where inside a List it stands ("items[2]"), or "". */
  readonly itemPath: string;
}

/**
 * "error": the resource cannot work as written (a mesh annotation Envoy would reject);
 * "warning": it will likely fail or misbehave at run time (errors under `--strict`);
 * "info": a computed fact worth showing (the pod VM's memory).
 */
export type FindingSeverity = "error" | "warning" | "info";

/** One problem in one resource; codes are listed in KUBE_FINDING_CODES (docs/errors.md). */
export interface Finding {
  readonly code: KubeFindingCode;
  readonly severity: FindingSeverity;
  readonly message: string;
  readonly hint: string;
  readonly resource: ResourceRef;
  /** The container it is about, if any. */
  readonly container?: string;
  /** The annotation it is about, if any. */
  readonly annotation?: string;
  /** The offending text: one entry of a mesh annotation, an image reference. */
  readonly entry?: string;
}

/** "web.yml:12 (document 2) Deployment emojivoto/web: <message>", for terminals and logs. */
export function formatFinding(f: Finding): string {
  const r = f.resource;
  const where = `${r.source}:${r.line} (document ${r.document}${r.itemPath === "" ? "" : `, ${r.itemPath}`})`;
  const name = r.namespace === undefined ? r.name : `${r.namespace}/${r.name}`;
  const container = f.container === undefined ? "" : ` container ${f.container}`;
  return `${where} ${r.kind} ${name}${container}: ${f.message}`;
}
