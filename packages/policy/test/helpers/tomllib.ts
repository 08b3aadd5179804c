import { execFileSync } from "node:child_process";

/** What Python's tomllib (a TOML 1.0 reader, in the standard library since 3.11) made of a text. */
export type TomllibResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: string };

// Reads a JSON list of base64 UTF-8 texts on stdin, answers one result per text. The texts travel
// as base64 so that control characters reach tomllib exactly as written.
const SCRIPT = `
import base64, json, sys, tomllib
out = []
for b in json.load(sys.stdin):
    try:
        out.append({"ok": True, "value": tomllib.loads(base64.b64decode(b).decode("utf-8"))})
    except Exception as e:
        out.append({"ok": False, "error": type(e).__name__ + ": " + str(e)})
json.dump(out, sys.stdout, default=lambda o: "<" + type(o).__name__ + ">" + str(o))
`;

/** Parses every text with tomllib in one python3 process: an independent TOML reader to compare with. */
export function tomllib(texts: readonly string[]): TomllibResult[] {
  const input = JSON.stringify(texts.map((t) => Buffer.from(t, "utf8").toString("base64")));
  const out = execFileSync("python3", ["-c", SCRIPT], { input, maxBuffer: 256 * 1024 * 1024 });
  return JSON.parse(out.toString("utf8")) as TomllibResult[];
}
