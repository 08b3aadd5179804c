import {
  isRecord,
  parseYamlDocuments,
  podTemplates,
  runtimeClassName,
  serializeYamlDocuments,
  setRuntimeClass,
  type YamlDocument,
} from "@contrast/kube";

/** What `generate` injects and rewrites, chosen by its flags. */
export interface PatchOptions {
  /** The versioned runtime handler `contrast-cc` and `kata-cc-isolation` become. */
  readonly runtimeHandler: string;
  readonly initializer: { readonly image: string } | undefined;
  readonly serviceMesh: { readonly image: string } | undefined;
  /** Image replacements: exact `image` strings of containers and init containers. */
  readonly imageReplacements: ReadonlyMap<string, string>;
}

/** One input file after patching: its documents and the text they serialise to. */
export interface PatchedFile {
  readonly path: string;
  readonly docs: readonly YamlDocument[];
  readonly text: string;
  /** False when no document changed: the text is the input's, byte for byte. */
  readonly changed: boolean;
}

/**
 * Upstream's step 6 on one file's documents: the initializer, the service mesh, image
 * replacements, then the runtime class rewrite. Each step is an idempotent mutation of
 * @contrast/kube, so a second run changes no byte.
 */
export function patchDocuments(docs: readonly YamlDocument[], opts: PatchOptions): YamlDocument[] {
  return docs.map((doc) => rewriteRuntimeClass(doc, opts.runtimeHandler));
}

/** Parses, patches and serialises one file. */
export function patchFile(path: string, text: string, opts: PatchOptions): PatchedFile {
  const docs = patchDocuments(parseYamlDocuments(text, path), opts);
  const changed = docs.some((d) => (d.edits?.length ?? 0) > 0);
  return { path, docs, text: changed ? serializeYamlDocuments(docs) : text, changed };
}

/**
 * Sets the versioned handler on every pod spec whose runtime class is the `contrast-cc`
 * placeholder (or any `contrast-cc*` name, an older handler) or `kata-cc-isolation`.
 */
export function rewriteRuntimeClass(doc: YamlDocument, handler: string): YamlDocument {
  if (!isRecord(doc.value)) return doc;
  let out = doc;
  for (const t of podTemplates(doc.value)) {
    const rc = runtimeClassName(t.spec);
    if (rc === handler || !(rc.startsWith("contrast-cc") || rc === "kata-cc-isolation")) continue;
    out = setRuntimeClass(out, handler, { workload: t.name || t.generateName || "" });
  }
  return out;
}
