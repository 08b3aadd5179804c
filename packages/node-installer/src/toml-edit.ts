import { parse, stringify, type TomlTable, type TomlValue } from "smol-toml";

/**
 * Minimal edits of a TOML document that keep the rest of its bytes (comments, order, spacing):
 * new tables are appended at the end, a scalar in an existing table is replaced on its line. An
 * edit the text form cannot express safely falls back to a full rewrite, and every result is
 * parsed again and compared with the intended document, so a clever edit can never produce a
 * file that means something else.
 */

export type TomlPath = readonly string[];

export interface SetScalar {
  readonly kind: "scalar";
  /** The table that holds the key. */
  readonly table: TomlPath;
  readonly key: string;
  readonly value: string | boolean | number;
}

export interface PutTable {
  readonly kind: "table";
  /** The table's full path; it replaces whatever is there. */
  readonly table: TomlPath;
  readonly value: TomlTable;
}

export type TomlEdit = SetScalar | PutTable;

export interface EditResult {
  readonly text: string;
  readonly document: TomlTable;
  /** "unchanged": text is the input; "edited": bytes outside the edits kept; "rewritten": serialised anew. */
  readonly how: "unchanged" | "edited" | "rewritten";
}

/** Parses TOML; throws smol-toml's TomlError on invalid input. */
export function parseToml(text: string): TomlTable {
  return parse(text) as TomlTable;
}

/** The document after the edits, without regard to text. */
export function applyEdits(document: TomlTable, edits: readonly TomlEdit[]): TomlTable {
  const out = structuredClone(document) as TomlTable;
  for (const edit of edits) {
    const parent = ensureTable(out, edit.kind === "scalar" ? edit.table : edit.table.slice(0, -1));
    if (edit.kind === "scalar") parent[edit.key] = edit.value;
    else parent[edit.table[edit.table.length - 1] as string] = structuredClone(edit.value);
  }
  return out;
}

/** Applies the edits to the text, as byte-preserving as it can while meaning exactly `applyEdits`. */
export function editToml(text: string, edits: readonly TomlEdit[]): EditResult {
  const before = parseToml(text);
  const wanted = applyEdits(before, edits);
  if (tomlEqual(before, wanted)) return { text, document: before, how: "unchanged" };
  const edited = tryTextEdits(text, before, edits);
  if (edited !== undefined && parsesTo(edited, wanted)) return { text: edited, document: wanted, how: "edited" };
  const rewritten = stringify(wanted);
  if (!parsesTo(rewritten, wanted)) {
    throw new Error("the TOML serialiser produced a document that does not parse back to itself");
  }
  return { text: rewritten, document: wanted, how: "rewritten" };
}

function parsesTo(text: string, wanted: TomlTable): boolean {
  try {
    return tomlEqual(parseToml(text), wanted);
  } catch {
    return false;
  }
}

function tryTextEdits(text: string, before: TomlTable, edits: readonly TomlEdit[]): string | undefined {
  let lines = text.split("\n");
  const appended: TomlEdit[] = [];
  for (const edit of edits) {
    if (edit.kind === "table") {
      // Only a table that does not exist yet can be appended; replacing one in place is a rewrite.
      if (lookup(before, edit.table) !== undefined) return undefined;
      appended.push(edit);
      continue;
    }
    const current = lookup(before, [...edit.table, edit.key]);
    if (current !== undefined && tomlEqual(current, edit.value)) continue;
    if (!lines.some((line) => samePath(headerPath(line), edit.table))) {
      // No header of its own (the table is absent, or exists only as the parent of others): a
      // header at the end defines it; the re-parse rejects this where TOML does not allow it.
      appended.push(edit);
      continue;
    }
    const next = setScalarLine(lines, edit, current !== undefined);
    if (next === undefined) return undefined;
    lines = next;
  }
  let out = lines.join("\n");
  if (appended.length > 0) {
    const block = stringify(applyEdits({}, appended));
    if (out !== "" && !out.endsWith("\n")) out += "\n";
    out += `${out === "" ? "" : "\n"}${block}`;
  }
  return out;
}

/** Replaces `key = ...` in the table's own section, or inserts it right below the header. */
function setScalarLine(lines: string[], edit: SetScalar, exists: boolean): string[] | undefined {
  const headers = lines.flatMap((line, i) => (samePath(headerPath(line), edit.table) ? [i] : []));
  if (headers.length !== 1) return undefined;
  const start = headers[0] as number;
  let end = lines.length;
  for (let i = start + 1; i < lines.length; i++) {
    if (/^\s*\[/.test(lines[i] as string)) {
      end = i;
      break;
    }
  }
  const assignment = `${stringify({ [edit.key]: edit.value }).trimEnd()}`;
  const out = [...lines];
  if (!exists) {
    out.splice(start + 1, 0, `${indentOf(lines[start + 1] ?? "")}${assignment}`);
    return out;
  }
  const keyPattern = new RegExp(
    `^(\\s*)(${escapeRegex(edit.key)}|"${escapeRegex(edit.key)}"|'${escapeRegex(edit.key)}')\\s*=`,
  );
  const found = [];
  for (let i = start + 1; i < end; i++) if (keyPattern.test(lines[i] as string)) found.push(i);
  if (found.length !== 1) return undefined;
  const at = found[0] as number;
  out[at] = `${indentOf(lines[at] as string)}${assignment}`;
  return out;
}

function indentOf(line: string): string {
  return /^[ \t]*/.exec(line)?.[0] ?? "";
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The key path of a `[table]` header line (not `[[array]]`), or undefined. */
export function headerPath(line: string): string[] | undefined {
  const m = /^\s*\[(?!\[)(.*)\]\s*(#.*)?$/.exec(line);
  if (m === null) return undefined;
  const inner = m[1] as string;
  const keys: string[] = [];
  let i = 0;
  const skip = () => {
    while (inner[i] === " " || inner[i] === "\t") i++;
  };
  skip();
  while (i < inner.length) {
    let key: string;
    const c = inner[i];
    if (c === '"' || c === "'") {
      const close = inner.indexOf(c, i + 1);
      if (close < 0) return undefined;
      key = inner.slice(i + 1, close);
      // Escapes in a basic string would need decoding; such headers are left to a rewrite.
      if (c === '"' && key.includes("\\")) return undefined;
      i = close + 1;
    } else {
      const bare = /^[A-Za-z0-9_-]+/.exec(inner.slice(i));
      if (bare === null) return undefined;
      key = bare[0];
      i += key.length;
    }
    keys.push(key);
    skip();
    if (i >= inner.length) break;
    if (inner[i] !== ".") return undefined;
    i++;
    skip();
  }
  return keys.length === 0 ? undefined : keys;
}

function samePath(a: readonly string[] | undefined, b: TomlPath): boolean {
  return a !== undefined && a.length === b.length && a.every((k, i) => k === b[i]);
}

/** The value at a key path, or undefined when any step is missing or not a table. */
export function lookup(document: TomlTable, path: TomlPath): TomlValue | undefined {
  let cur: TomlValue | undefined = document;
  for (const key of path) {
    if (!isTable(cur)) return undefined;
    cur = Object.hasOwn(cur, key) ? (cur as TomlTable)[key] : undefined;
  }
  return cur;
}

function ensureTable(document: TomlTable, path: TomlPath): TomlTable {
  let cur = document;
  for (const key of path) {
    const next = Object.hasOwn(cur, key) ? cur[key] : undefined;
    if (next === undefined) {
      const created: TomlTable = {};
      cur[key] = created;
      cur = created;
    } else if (isTable(next)) {
      cur = next;
    } else {
      throw new TypeError(`${path.join(".")}: ${key} is not a table`);
    }
  }
  return cur;
}

export function isTable(value: unknown): value is TomlTable {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** Structural equality of parsed TOML values (key order ignored; dates by their text). */
export function tomlEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Date || b instanceof Date) return String(a) === String(b);
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => tomlEqual(x, b[i]));
  }
  if (isTable(a) && isTable(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && tomlEqual(a[k], b[k]));
  }
  return false;
}
