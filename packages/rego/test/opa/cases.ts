// Loads OPA's topdown conformance cases (testdata/rego/opa-conformance/{v0,v1}/<folder>/*.yaml).
// The YAML goes through js-yaml's core schema: OPA reads it with a YAML-to-JSON decoder that keeps
// timestamps as strings, so the default schema's Date values would be wrong.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CORE_SCHEMA, load } from "js-yaml";
import { TESTDATA } from "../fixtures.js";

export const OPA_CASES_DIR = join(TESTDATA, "opa-conformance");

/** The fields of OPA's `cases.TestCase` that its topdown runner reads. */
export interface OpaCase {
  /** "v0/aggregates", "v1/withkeyword", ... */
  readonly folder: string;
  readonly file: string;
  /** "<folder>/<file>#<note>", with " #2" etc. when a file repeats a note. */
  readonly id: string;
  readonly version: "v0" | "v1";
  readonly note: string;
  readonly query: string;
  readonly modules: readonly string[];
  readonly data?: Record<string, unknown> | null;
  readonly input?: unknown;
  readonly input_term?: string;
  readonly want_result?: readonly Record<string, unknown>[];
  readonly want_error_code?: string;
  readonly want_error?: string;
  readonly sort_bindings?: boolean;
  readonly ignore_generated_vars?: boolean;
  readonly strict_error?: boolean;
  readonly experimental_keywords?: boolean;
  readonly env?: Record<string, string>;
}

type RawCase = Omit<OpaCase, "folder" | "file" | "id" | "version">;

/** Every case of both language versions, in folder, file and note order. */
export function loadOpaCases(): OpaCase[] {
  const out: OpaCase[] = [];
  for (const version of ["v0", "v1"] as const) {
    const root = join(OPA_CASES_DIR, version);
    for (const dir of readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory())) {
      const folder = `${version}/${dir.name}`;
      const files = readdirSync(join(root, dir.name))
        .filter((f) => f.endsWith(".yaml"))
        .sort();
      for (const file of files) {
        const doc = load(readFileSync(join(root, dir.name, file), "utf8"), { schema: CORE_SCHEMA }) as {
          cases?: RawCase[];
        };
        const seen = new Map<string, number>();
        for (const c of doc.cases ?? []) {
          const n = (seen.get(c.note) ?? 0) + 1;
          seen.set(c.note, n);
          out.push({
            ...c,
            modules: c.modules ?? [],
            folder,
            file,
            version,
            id: `${folder}/${file}#${c.note}${n > 1 ? ` #${n}` : ""}`,
          });
        }
      }
    }
  }
  return out.sort((a, b) => (a.folder < b.folder ? -1 : a.folder > b.folder ? 1 : 0));
}
