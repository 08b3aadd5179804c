import { dump, loadAll } from "js-yaml";
import { PolicyError } from "../errors.js";

/** One YAML document of a multi-document stream, with its original text kept verbatim. */
export interface YamlDocument {
  /** The document's text as it appeared, without the `---` line that opened it. */
  readonly raw: string;
  /** The parsed value; null for an empty document. */
  readonly value: unknown;
  /** 1-based line of the document's first line in the input, for messages. */
  readonly line: number;
}

const SEPARATOR = /^---(?:[ \t].*)?$/;

/**
 * Splits a multi-document YAML stream at its `---` lines and parses each document on its own.
 * Keeping each document's text lets the caller write unchanged documents back byte for byte.
 * A `---` line can only start a document: inside a block scalar it would be indented.
 */
export function parseYamlDocuments(text: string, source = "input"): YamlDocument[] {
  const lines = text.split(/\r?\n/);
  const chunks: { start: number; lines: string[] }[] = [{ start: 1, lines: [] }];
  lines.forEach((line, i) => {
    if (SEPARATOR.test(line)) chunks.push({ start: i + 2, lines: [] });
    else chunks[chunks.length - 1]?.lines.push(line);
  });
  // A leading `---` opens the first document; drop the empty chunk before it.
  if (chunks.length > 1 && chunks[0]?.lines.every((l) => /^\s*(#.*)?$/.test(l))) chunks.shift();
  const docs: YamlDocument[] = [];
  for (const chunk of chunks) {
    const raw = chunk.lines.join("\n");
    let value: unknown;
    try {
      // loadAll accepts an empty or comment-only document (load rejects it) and our chunks hold
      // exactly one document.
      const values = loadAll(raw);
      if (values.length > 1) throw new Error("more than one document in a chunk");
      value = values[0];
    } catch (e) {
      const msg = e instanceof Error ? e.message.split("\n")[0] : String(e);
      throw new PolicyError("POLICY_YAML_INVALID", `${source}:${chunk.start}: ${msg}`, {
        cause: e,
        hint: "Fix the YAML syntax of this document.",
      });
    }
    docs.push({ raw, value: value === undefined ? null : value, line: chunk.start });
  }
  return docs;
}

/**
 * Joins documents into one stream. A document whose value was replaced is dumped anew; every
 * other document keeps its original text.
 */
export function serializeYamlDocuments(docs: readonly { raw: string; replacement?: unknown }[]): string {
  const parts = docs.map((d) => {
    if (d.replacement === undefined) return d.raw.replace(/\n*$/, "\n");
    return dump(d.replacement, { lineWidth: -1, noRefs: true });
  });
  return parts.map((p) => `---\n${p}`).join("");
}
