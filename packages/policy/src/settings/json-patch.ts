import { PolicyError } from "../errors.js";

/** One RFC 6902 operation. */
export type JsonPatchOperation =
  | { readonly op: "add" | "replace" | "test"; readonly path: string; readonly value: unknown }
  | { readonly op: "remove"; readonly path: string }
  | { readonly op: "move" | "copy"; readonly path: string; readonly from: string };

const OPS = new Set(["add", "remove", "replace", "move", "copy", "test"]);

/** Checks that `value` is a JSON Patch document (an array of operations) and returns it typed. */
export function parseJsonPatch(value: unknown, source: string): JsonPatchOperation[] {
  if (!Array.isArray(value)) throw patchError(source, "a JSON Patch document must be an array of operations");
  return value.map((op, i) => {
    const at = `${source}[${i}]`;
    if (op === null || typeof op !== "object" || Array.isArray(op))
      throw patchError(at, "an operation must be an object");
    const o = op as Record<string, unknown>;
    if (typeof o.op !== "string" || !OPS.has(o.op)) throw patchError(at, `unknown op ${JSON.stringify(o.op)}`);
    if (typeof o.path !== "string") throw patchError(at, "path must be a string");
    parsePointer(o.path, at);
    if (o.op === "move" || o.op === "copy") {
      if (typeof o.from !== "string") throw patchError(at, `${o.op} needs a "from" string`);
      parsePointer(o.from, at);
      return { op: o.op, path: o.path, from: o.from };
    }
    if (o.op === "remove") return { op: "remove", path: o.path };
    if (!Object.hasOwn(o, "value")) throw patchError(at, `${o.op} needs a "value"`);
    return { op: o.op as "add" | "replace" | "test", path: o.path, value: o.value };
  });
}

/**
 * Applies RFC 6902 operations to a deep copy of `doc` and returns the copy. The whole patch is
 * atomic: a failing operation throws and the input is untouched.
 */
export function applyJsonPatch<T>(doc: T, patch: readonly JsonPatchOperation[], source = "patch"): T {
  let root: unknown = structuredClone(doc);
  patch.forEach((op, i) => {
    const at = `${source}[${i}] (${op.op} ${op.path})`;
    switch (op.op) {
      case "add":
        root = add(root, parsePointer(op.path, at), structuredClone(op.value), at);
        break;
      case "remove":
        root = remove(root, parsePointer(op.path, at), at).root;
        break;
      case "replace": {
        const tokens = parsePointer(op.path, at);
        get(root, tokens, at); // must exist
        root =
          tokens.length === 0 ? structuredClone(op.value) : setExisting(root, tokens, structuredClone(op.value), at);
        break;
      }
      case "move": {
        const from = parsePointer(op.from, at);
        const to = parsePointer(op.path, at);
        if (to.length > from.length && from.every((t, k) => to[k] === t)) {
          throw patchError(at, "cannot move a value into one of its own children");
        }
        const removed = remove(root, from, at);
        root = add(removed.root, to, removed.value, at);
        break;
      }
      case "copy":
        root = add(root, parsePointer(op.path, at), structuredClone(get(root, parsePointer(op.from, at), at)), at);
        break;
      case "test":
        if (!deepEqual(get(root, parsePointer(op.path, at), at), op.value)) throw patchError(at, "test failed");
        break;
    }
  });
  return root as T;
}

/** RFC 6901: "" is the whole document; "/a/b" are tokens with ~1 -> "/" and ~0 -> "~". */
export function parsePointer(pointer: string, at: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw patchError(at, `JSON pointer ${JSON.stringify(pointer)} must start with "/"`);
  return pointer
    .slice(1)
    .split("/")
    .map((t) => {
      if (/~[^01]|~$/.test(t)) throw patchError(at, `bad escape in JSON pointer ${JSON.stringify(pointer)}`);
      return t.replace(/~1/g, "/").replace(/~0/g, "~");
    });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function arrayIndex(arr: unknown[], token: string, at: string, allowEnd: boolean): number {
  if (allowEnd && token === "-") return arr.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw patchError(at, `${JSON.stringify(token)} is not an array index`);
  const i = Number(token);
  if (i > arr.length || (!allowEnd && i === arr.length)) throw patchError(at, `index ${i} is out of bounds`);
  return i;
}

function get(root: unknown, tokens: readonly string[], at: string): unknown {
  let cur = root;
  for (const t of tokens) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(cur, t, at, false)];
    else if (isObject(cur) && Object.hasOwn(cur, t)) cur = cur[t];
    else throw patchError(at, `path does not exist`);
  }
  return cur;
}

function parentOf(root: unknown, tokens: readonly string[], at: string): { parent: unknown; last: string } {
  const last = tokens[tokens.length - 1];
  if (last === undefined) throw patchError(at, "the operation needs a non-empty path");
  return { parent: get(root, tokens.slice(0, -1), at), last };
}

function add(root: unknown, tokens: readonly string[], value: unknown, at: string): unknown {
  if (tokens.length === 0) return value;
  const { parent, last } = parentOf(root, tokens, at);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, at, true), 0, value);
  else if (isObject(parent)) defineKey(parent, last, value);
  else throw patchError(at, "the parent of the path is not a container");
  return root;
}

function setExisting(root: unknown, tokens: readonly string[], value: unknown, at: string): unknown {
  const { parent, last } = parentOf(root, tokens, at);
  if (Array.isArray(parent)) parent[arrayIndex(parent, last, at, false)] = value;
  else if (isObject(parent)) defineKey(parent, last, value);
  return root;
}

function remove(root: unknown, tokens: readonly string[], at: string): { root: unknown; value: unknown } {
  if (tokens.length === 0) throw patchError(at, "cannot remove the whole document");
  const { parent, last } = parentOf(root, tokens, at);
  if (Array.isArray(parent)) {
    const [value] = parent.splice(arrayIndex(parent, last, at, false), 1);
    return { root, value };
  }
  if (isObject(parent) && Object.hasOwn(parent, last)) {
    const value = parent[last];
    delete parent[last];
    return { root, value };
  }
  throw patchError(at, "path does not exist");
}

/** Own data property, so a "__proto__" key stays ordinary data. */
function defineKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

function patchError(at: string, message: string): PolicyError {
  return new PolicyError("POLICY_SETTINGS_PATCH_FAILED", `${at}: ${message}`, {
    hint: "Fix the JSON Patch drop-in (RFC 6902): each operation needs op, path and value/from, and paths must exist.",
  });
}
