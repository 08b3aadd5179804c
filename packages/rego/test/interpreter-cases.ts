// Runs regorus' YAML interpreter cases the way regorus' own harness does: v0 syntax except in
// bindings.yaml, strict built-in errors unless `strict: false`, one evaluation per input, and the
// result list built from bindings (or expression values) of each solution.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { load } from "js-yaml";
import { Policy, type QueryResult } from "../src/engine.js";
import { equal, fromJson, ObjectBuilder, RSet, type Value } from "../src/values.js";
import { TESTDATA } from "./fixtures.js";

export interface InterpreterCase {
  readonly file: string;
  /** "<file> :: <note>", with " #2" etc. when a file repeats a note. */
  readonly id: string;
  readonly note: string;
  readonly modules: string[];
  readonly data?: unknown;
  readonly input?: unknown;
  readonly query: string;
  readonly want_result?: unknown;
  readonly want_prints?: string[];
  readonly error?: string;
  readonly no_result?: boolean;
  readonly strict?: boolean;
  readonly skip?: boolean;
  readonly sort_bindings?: boolean;
}

export const CASES_DIR = join(TESTDATA, "regorus-interpreter");

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...yamlFiles(p));
    else if (e.name.endsWith(".yaml")) out.push(p);
  }
  return out.sort();
}

/**
 * serde_yaml accepts a flow collection whose closing bracket sits left of its key's value; js-yaml
 * does not. On that error, closing-bracket lines get the indentation of the line above.
 */
function loadYaml(text: string): unknown {
  try {
    return load(text);
  } catch {
    const lines = text.split("\n");
    let depth = 0;
    let indent = "";
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] as string;
      if (depth > 0) lines[i] = `${indent}  ${line.trimStart()}`;
      const before = depth;
      for (const ch of line.replace(/"(?:[^"\\]|\\.)*"/g, "")) {
        if (ch === "[" || ch === "{") depth++;
        else if (ch === "]" || ch === "}") depth--;
      }
      if (before === 0 && depth > 0) indent = line.match(/^\s*/)?.[0] ?? "";
    }
    return load(lines.join("\n"));
  }
}

export function loadCases(): InterpreterCase[] {
  const out: InterpreterCase[] = [];
  for (const path of yamlFiles(CASES_DIR)) {
    const doc = loadYaml(readFileSync(path, "utf8")) as { cases?: Omit<InterpreterCase, "file" | "id">[] };
    const seen = new Map<string, number>();
    for (const c of doc.cases ?? []) {
      const file = relative(CASES_DIR, path);
      const n = (seen.get(c.note) ?? 0) + 1;
      seen.set(c.note, n);
      out.push({ ...c, file, id: `${file} :: ${c.note}${n > 1 ? ` #${n}` : ""}` });
    }
  }
  return out;
}

export function caseId(c: InterpreterCase): string {
  return c.id;
}

/** regorus' encodings in expected values: "#undefined", {"set!": [...]}, {"object!": [{key, value}]}. */
function expectedValue(v: unknown): Value | undefined {
  if (v === "#undefined") return undefined;
  if (Array.isArray(v)) return v.map((x) => expectedValue(x) as Value);
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === "set!" && Array.isArray(o["set!"])) {
      return RSet.from((o["set!"] as unknown[]).map((x) => expectedValue(x) as Value));
    }
    if (keys.length === 1 && keys[0] === "object!" && Array.isArray(o["object!"])) {
      const b = new ObjectBuilder();
      for (const e of o["object!"] as { key: unknown; value: unknown }[]) {
        b.set(expectedValue(e.key) as Value, expectedValue(e.value) as Value);
      }
      return b.build();
    }
    const b = new ObjectBuilder();
    for (const k of keys) {
      const x = expectedValue(o[k]);
      if (x !== undefined) b.set(k, x);
    }
    return b.build();
  }
  return fromJson(v);
}

function many(v: unknown): unknown[] | undefined {
  if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    const m = (v as Record<string, unknown>)["many!"];
    if (Array.isArray(m)) return m;
  }
  return undefined;
}

function pushResults(rs: QueryResult<Value>[], out: (Value | undefined)[], sortBindings: boolean): void {
  const bindingsOf = (r: QueryResult<Value>): Value => {
    const b = new ObjectBuilder();
    for (const [k, v] of Object.entries(r.bindings)) {
      b.set(k, sortBindings && Array.isArray(v) ? [...(v as Value[])].sort(compareValues) : v);
    }
    return b.build();
  };
  if (rs.length === 1) {
    const r = rs[0] as QueryResult<Value>;
    if (Object.keys(r.bindings).length > 0) out.push(bindingsOf(r));
    else for (const e of r.expressions) out.push(e);
    return;
  }
  for (const r of rs) {
    out.push(Object.keys(r.bindings).length > 0 ? bindingsOf(r) : r.expressions);
  }
}

import { compare as compareValues } from "../src/values.js";

export interface Outcome {
  readonly ok: boolean;
  readonly message: string;
}

/** Runs one case; `ok` when it behaves as the case expects. */
export function runCase(c: InterpreterCase, nowNs: number): Outcome {
  const prints: string[] = [];
  let results: (Value | undefined)[] = [];
  try {
    const policy = Policy.compile(
      c.modules.map((source, i) => ({ file: `rego_${i}`, source })),
      { v1: c.file.endsWith("bindings.yaml"), ...(c.data === undefined ? {} : { data: c.data }) },
    );
    const inputs = c.input === undefined ? [undefined] : (many(c.input) ?? [c.input]);
    for (const input of inputs) {
      const rs = policy.queryValues(c.query, {
        ...(input === undefined ? {} : { input }),
        strict: c.strict ?? true,
        print: (line) => prints.push(line),
        nowNs,
      });
      pushResults(rs, results, c.sort_bindings === true);
    }
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (c.error !== undefined && msg.includes(c.error)) return { ok: true, message: msg };
    return {
      ok: false,
      message: `error: ${msg}${c.error === undefined ? "" : ` (expected ${JSON.stringify(c.error)})`}`,
    };
  }
  if (c.error !== undefined) return { ok: false, message: `expected error ${JSON.stringify(c.error)}, got a result` };
  if (c.want_result === undefined) {
    return c.no_result === true
      ? { ok: true, message: "no result expected" }
      : { ok: false, message: "no expectation" };
  }
  const expected = (many(c.want_result) ?? [c.want_result]).map(expectedValue);
  results = results.map((r) => (r === undefined ? undefined : r));
  if (results.length !== expected.length) {
    return { ok: false, message: `got ${results.length} results, expected ${expected.length}` };
  }
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const r = results[i];
    if (e === undefined ? r !== undefined : r === undefined || !equal(r, e)) {
      return { ok: false, message: `result ${i} differs` };
    }
  }
  if (c.want_prints !== undefined && JSON.stringify(c.want_prints) !== JSON.stringify(prints)) {
    return { ok: false, message: `prints differ: ${JSON.stringify(prints)}` };
  }
  return { ok: true, message: "ok" };
}
