import { dump, loadAll } from "js-yaml";
import { isSeq, parseDocument } from "yaml";
import { KubeError } from "./errors.js";

/** One YAML document of a multi-document stream, with its original text kept verbatim. */
export interface YamlDocument {
  /** The document's text as it appeared, without the `---` line that opened it. */
  readonly raw: string;
  /** The parsed value; null for an empty document. */
  readonly value: unknown;
  /** 1-based line of the document's first line in the input, for messages. */
  readonly line: number;
  /**
   * True for comments (a licence header, say) before the first `---` line: kept verbatim, in
   * front of the first `---`, and never a workload.
   */
  readonly preamble?: boolean;
  /** False for a first document that no `---` line opened: it is written back without one. */
  readonly opened?: boolean;
  /**
   * The changes the mutations made to `value` (in order), applied to `raw` when the stream is
   * written; absent or empty: the document is written back as it was read.
   */
  readonly edits?: readonly YamlEdit[];
}

/**
 * A change to one document: the node at `path` (keys and list indexes) becomes `value` (a string
 * or a JSON-like value). With `remove`, the key is deleted instead; with `insert`, `path` ends in
 * a list index and `value` is inserted there (the list is created when absent).
 */
export interface YamlEdit {
  readonly path: readonly (string | number)[];
  readonly value: unknown;
  readonly remove?: boolean;
  readonly insert?: boolean;
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
  // A leading `---` opens the first document. What stands before it is blank lines and comments
  // only: drop it if blank, keep comments (licence headers) as a preamble.
  const docs: YamlDocument[] = [];
  const first = chunks[0];
  if (chunks.length > 1 && first !== undefined && first.lines.every((l) => /^\s*(#.*)?$/.test(l))) {
    chunks.shift();
    if (first.lines.some((l) => l.trim() !== "")) {
      docs.push({ raw: first.lines.join("\n"), value: null, line: first.start, preamble: true });
    }
  }
  const unopened = chunks.length > 0 && chunks[0] === first && first !== undefined;
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
      throw new KubeError("KUBE_YAML_INVALID", `${source}:${chunk.start}: ${msg}`, {
        cause: e,
        hint: "Fix the YAML syntax of this document.",
      });
    }
    docs.push({
      raw,
      value: value === undefined ? null : value,
      line: chunk.start,
      ...(unopened && chunk === first ? { opened: false } : {}),
    });
  }
  return docs;
}

export interface SerializedDocument {
  readonly raw: string;
  readonly preamble?: boolean;
  readonly opened?: boolean;
  /** The document's new value; undefined keeps the original text. */
  readonly replacement?: unknown;
  /** With edits and no `replacement`, the value they produced (a mutated `YamlDocument`). */
  readonly value?: unknown;
  /** The changes that turned the original into `replacement`, to apply to the text itself. */
  readonly edits?: readonly YamlEdit[];
}

/**
 * Joins documents into one stream. A document whose value was replaced is rewritten from its
 * own text with `edits` applied (the `yaml` package's document API keeps its comments), and dumped
 * anew from `replacement` only when that cannot give the same value; every other document keeps
 * its original text. A preamble stays in front of the first `---`.
 */
export function serializeYamlDocuments(docs: readonly SerializedDocument[]): string {
  return docs
    .map((d, i) => {
      // Byte for byte: the preamble's lines, each ending where the next line (or `---`) starts.
      if (d.preamble === true) return `${d.raw}\n`;
      const open = d.opened === false ? "" : "---\n";
      const replacement = d.replacement ?? (d.edits !== undefined && d.edits.length > 0 ? d.value : undefined);
      if (replacement === undefined) {
        // A document's text ends where the next `---` line starts, blank lines included; the last
        // one ends with the input (an empty one after a final `---`), given a final newline.
        if (i < docs.length - 1) return `${open}${d.raw}\n`;
        return `${open}${d.raw === "" || d.raw.endsWith("\n") ? d.raw : `${d.raw}\n`}`;
      }
      const edited = d.edits === undefined ? undefined : applyEdits(d.raw, d.edits, replacement);
      return `${open}${edited ?? dump(replacement, { lineWidth: -1, noRefs: true })}`;
    })
    .join("");
}

/**
 * The document's text with the edits applied, comments kept; undefined when the `yaml` package
 * reads the text differently from js-yaml (then the caller dumps the value instead, losing the
 * comments but never changing the meaning).
 *
 * Long opaque strings (a base64 policy annotation is 10–100 KiB) dominate the cost of that
 * check, so they are written and checked as short placeholder words first and put in place
 * afterwards; see `opaque` for why that cannot change what the text means.
 */
function applyEdits(raw: string, edits: readonly YamlEdit[], expected: unknown): string | undefined {
  try {
    const doc = parseDocument(raw, { keepSourceTokens: false });
    if (doc.errors.length > 0) return undefined;
    const stand: [placeholder: string, value: string][] = [];
    for (const e of edits) {
      if (e.remove === true) doc.deleteIn(e.path);
      else if (e.insert === true) {
        const listPath = e.path.slice(0, -1);
        const index = e.path[e.path.length - 1] as number;
        const list = doc.getIn(listPath, true);
        if (isSeq(list)) list.items.splice(index, 0, doc.createNode(e.value));
        else doc.setIn(listPath, doc.createNode([e.value]));
      } else if (typeof e.value === "string") {
        let value = e.value;
        if (opaque(value)) {
          const placeholder = `contrastPlaceholder${stand.length}x${raw.length}`;
          stand.push([placeholder, value]);
          value = placeholder;
        }
        doc.setIn(e.path, value);
      } else doc.setIn(e.path, doc.createNode(e.value));
    }
    let text = doc.toString({ lineWidth: 0 });
    const again = loadAll(text);
    if (again.length !== 1) return undefined;
    // Compared with the placeholders standing in for the strings on both sides, so the long
    // strings are never copied into the comparison.
    const placeholders = new Map(stand.map(([placeholder, value]) => [value, placeholder]));
    if (canonical(again[0]) !== canonical(expected, placeholders)) return undefined;
    for (const [placeholder, value] of stand) {
      // Each placeholder must stand at most once in the text, as a plain word, and nowhere in the
      // input, so that putting the string in its place changes that one scalar only. (None: a
      // later edit replaced it, and the comparison above showed the string is not wanted.)
      const count = text.split(placeholder).length - 1;
      if (count > 1 || raw.includes(placeholder)) return undefined;
      if (count === 1) text = text.replace(placeholder, () => value);
    }
    return text;
  } catch {
    return undefined;
  }
}

/**
 * A string that reads back as itself when written as a plain scalar wherever a plain word
 * (letters and digits) can stand: at least 256 characters of the base64 alphabet, one of them a
 * character no YAML 1.2 core-schema number can hold (null, booleans, .inf and .nan are shorter),
 * and none of the characters that end or change a plain scalar (`: `, ` #`, flow indicators,
 * quotes, spaces and line breaks are all outside the alphabet).
 */
function opaque(value: string): boolean {
  return value.length >= 256 && /^[A-Za-z0-9+/]+={0,2}$/.test(value) && /[g-nG-Np-wP-WyzYZ/]/.test(value);
}

/** JSON with sorted keys, to compare two parsed values; strings in `substitute` are replaced. */
function canonical(v: unknown, substitute?: ReadonlyMap<string, string>): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x !== null && typeof x === "object" && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : typeof x === "string" && substitute !== undefined
        ? (substitute.get(x) ?? x)
        : x,
  );
}

/** "items[2].spec.template.spec" as keys: ["items", 2, "spec", "template", "spec"]. */
export function pathKeys(path: string): (string | number)[] {
  const keys: (string | number)[] = [];
  for (const part of path.split(".")) {
    if (part === "") continue;
    const m = /^([^[]*)((?:\[\d+\])*)$/.exec(part);
    if (m === null) {
      keys.push(part);
      continue;
    }
    if (m[1] !== undefined && m[1] !== "") keys.push(m[1]);
    for (const idx of (m[2] ?? "").matchAll(/\[(\d+)\]/g)) keys.push(Number(idx[1]));
  }
  return keys;
}
