import { ContrastError } from "@contrast/core";
import {
  type Finding,
  formatFinding,
  type PatchOptions,
  parseYamlDocuments,
  patchWorkload,
  serializeYamlDocuments,
  validateMeshAnnotations,
  type YamlDocument,
  type YamlFile,
} from "@contrast/kube";

/** One input file after patching: its documents and the text they serialise to. */
export interface PatchedFile {
  readonly path: string;
  /** The documents with the patch's edits recorded, not yet written (policy generation adds its own). */
  readonly docs: readonly YamlDocument[];
  /** The file as it was read. */
  readonly input: string;
  /** The patched text; written on first use, since generate usually writes docs and policies in one go. */
  readonly text: string;
  /** False when no document changed: the text is the input's, byte for byte. */
  readonly changed: boolean;
}

/** The result of patching every file: the files, and the findings that are not errors. */
export interface PatchResult {
  readonly files: readonly PatchedFile[];
  readonly warnings: readonly Finding[];
}

/**
 * Upstream's step 6 on every file: the initializer, the service mesh, image replacements and the
 * runtime class rewrite (@contrast/kube's patchWorkload, idempotent, comments kept). Every
 * problem in every resource is collected first (the mesh annotations' grammar, a clashing
 * `contrast-secrets` volume) and reported at once, with the resource and the entry, so that one
 * run shows everything to fix.
 */
export function patchFiles(inputs: readonly { path: string; text: string }[], opts: PatchOptions): PatchResult {
  const parsed: YamlFile[] = inputs.map((f) => ({ source: f.path, documents: parseYamlDocuments(f.text, f.path) }));
  // On copies: reading pod templates fills in missing metadata in the values it is given, and a
  // value that no longer matches its text would make the serialiser drop the comments.
  const findings = opts.serviceMesh === undefined ? [] : validateMeshAnnotations(parsed.map(copyFile));
  const errors: { message: string; code: string; details: Record<string, unknown> }[] = findings
    .filter((f) => f.severity === "error")
    .map((f) => ({ message: formatFinding(f), code: f.code, details: findingDetails(f) }));
  const files: PatchedFile[] = [];
  for (const [i, file] of parsed.entries()) {
    const docs = file.documents.map((doc, d) => {
      try {
        return patchWorkload(doc, opts);
      } catch (e) {
        const err = ContrastError.from(e);
        if (err.kind !== "input") throw e;
        errors.push({
          message: `${file.source}:${doc.line} (document ${d}): ${err.message}`,
          code: err.code,
          details: { file: file.source, document: d, line: doc.line, ...(err.details ?? {}) },
        });
        return doc;
      }
    });
    // Mutations return the document they were given when nothing changes.
    const changed = docs.some((d, j) => d !== file.documents[j]);
    const text = (inputs[i] as { text: string }).text;
    let written: string | undefined;
    files.push({
      path: file.source,
      docs,
      input: text,
      get text() {
        written ??= changed ? serializeYamlDocuments(docs) : text;
        return written;
      },
      changed,
    });
  }
  if (errors.length > 0) {
    const [first] = errors as [(typeof errors)[number]];
    const n = errors.length;
    throw new ContrastError(
      "CLI_GENERATE_RESOURCES_INVALID",
      n === 1 ? first.message : `${n} problems in the resources; the first: ${first.message}`,
      {
        hint: "Fix every listed entry and run generate again; `contrast generate -o json` lists them under error.details.problems.",
        details: { problems: errors.map((e) => ({ code: e.code, message: e.message, ...e.details })) },
      },
    );
  }
  return { files, warnings: findings.filter((f) => f.severity !== "error") };
}

/** A file whose document values can be read by functions that fill in defaults. */
export function copyFile(file: YamlFile): YamlFile {
  return { source: file.source, documents: file.documents.map((d) => ({ ...d, value: structuredClone(d.value) })) };
}

/** A finding's structured fields, for the JSON document. */
export function findingDetails(f: Finding): Record<string, unknown> {
  return {
    resource: {
      kind: f.resource.kind,
      name: f.resource.name,
      ...(f.resource.namespace === undefined ? {} : { namespace: f.resource.namespace }),
      file: f.resource.source,
      document: f.resource.document,
      line: f.resource.line,
    },
    ...(f.container === undefined ? {} : { container: f.container }),
    ...(f.annotation === undefined ? {} : { annotation: f.annotation }),
    ...(f.entry === undefined ? {} : { entry: f.entry }),
    hint: f.hint,
  };
}
