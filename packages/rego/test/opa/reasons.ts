// Why a conformance case fails, as written into opa-known-failures.json by `--write-known`: the
// out-of-scope family, a known limitation of the engine, or the judge's own message. A reason is
// derived from the failure each time the file is rewritten, so it never goes stale.
import type { OpaCase } from "./cases.js";
import { outOfScope } from "./scope.js";

/** Known limitations, matched on the case's note or the failure message. */
const LIMITATIONS: readonly (readonly [RegExp, string])[] = [
  [
    /bignum|big_int|float too big|fast-path overflow/,
    "numbers beyond double precision: values are IEEE doubles, OPA keeps exact big integers and floats",
  ],
  [
    /could not find function http\.send|with` target http\.send/,
    "http.send is refused (no network access from policies)",
  ],
  [
    /invalid utf-8/,
    "strings are UTF-16 text: invalid UTF-8 bytes from base64.decode are not kept as OPA's byte strings",
  ],
  [/'in' can still be used as variable/, "v0 modules always have the future keywords (in, every, if, contains)"],
  [/time caching/, "test.sleep is an OPA test-only built-in"],
  [
    /141828752/,
    "nanosecond timestamps beyond 2^53 are doubles: time.format rounds them to microseconds (see docs/rego.md)",
  ],
  [/opa` is unsafe/, "opa.runtime is not a built-in here"],
];

export function reasonFor(c: OpaCase, message: string): string {
  const family = outOfScope(c.folder);
  const unknown = /could not find function ([\w.]+)/.exec(message)?.[1];
  for (const [pattern, why] of LIMITATIONS) if (pattern.test(`${c.note}\n${message}`)) return why;
  if (family !== undefined)
    return `out of scope (${family})${unknown === undefined ? "" : `: ${unknown} not implemented`}`;
  if (unknown !== undefined) return `built-in ${unknown} is not implemented`;
  return message.length > 240 ? `${message.slice(0, 237)}...` : message;
}
