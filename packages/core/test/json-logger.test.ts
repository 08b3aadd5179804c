import { fuzzRuns } from "@contrast/testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fixedClock, manualClock } from "../src/clock.js";
import { ContrastError } from "../src/error.js";
import { parseJson } from "../src/json/parse.js";
import type { JsonObject } from "../src/json/value.js";
import { jsonLogger } from "../src/json-logger.js";

const AT = "2026-03-01T12:00:00.000Z";

function capture(options: Partial<Parameters<typeof jsonLogger>[0]> = {}) {
  const lines: string[] = [];
  const logger = jsonLogger({ write: (line) => lines.push(line), clock: fixedClock(AT), ...options });
  // Our strict parser: a duplicate key or any non-JSON byte in a line fails the test.
  const entries = () => lines.map((line) => parseJson(line.slice(0, -1)) as JsonObject);
  return { logger, lines, entries };
}

describe("jsonLogger", () => {
  it("writes one JSON object per line with slog's keys, the injected time and the fields", () => {
    const { logger, lines, entries } = capture({ fields: { component: "coordinator" } });
    logger.info("manifest set", { generation: 2, hashes: ["ab", "cd"] });
    logger.error("recovery failed", { peer: "10.0.0.7" });
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line.endsWith("\n") && !line.slice(0, -1).includes("\n")).toBe(true);
    expect(lines[0]).toBe(
      `{"time":"${AT}","level":"INFO","msg":"manifest set","component":"coordinator","generation":2,"hashes":["ab","cd"]}\n`,
    );
    expect(entries()[1]).toEqual({
      time: AT,
      level: "ERROR",
      msg: "recovery failed",
      component: "coordinator",
      peer: "10.0.0.7",
    });
  });

  it("takes each entry's time from the clock, not the wall clock", () => {
    const clock = manualClock("2030-01-01T00:00:00Z");
    const { logger, entries } = capture({ clock });
    logger.info("a");
    clock.advance(1500);
    logger.info("b");
    expect(entries().map((e) => e.time)).toEqual(["2030-01-01T00:00:00.000Z", "2030-01-01T00:00:01.500Z"]);
  });

  it("drops entries below the level and defaults to info", () => {
    const byDefault = capture();
    byDefault.logger.debug("hidden");
    byDefault.logger.warn("shown");
    expect(byDefault.entries().map((e) => e.level)).toEqual(["WARN"]);
    const debug = capture({ level: "debug" });
    for (const level of ["debug", "info", "warn", "error"] as const) debug.logger[level](level);
    expect(debug.entries().map((e) => e.level)).toEqual(["DEBUG", "INFO", "WARN", "ERROR"]);
    const error = capture({ level: "error" });
    for (const level of ["debug", "info", "warn", "error"] as const) error.logger[level](level);
    expect(error.entries().map((e) => e.msg)).toEqual(["error"]);
  });

  it("writes errors with code, kind, hint, details and cause", () => {
    const { logger, entries } = capture();
    const cause = new ContrastError("JSON_SYNTAX", "unexpected end of input", { hint: "Fix the JSON." });
    const err = new ContrastError("MANIFEST_INVALID", "the manifest is invalid", {
      kind: "input",
      hint: "Run contrast manifest validate.",
      details: { path: "$.Policies" },
      cause,
    });
    logger.error("set manifest failed", { err, other: new TypeError("boom") });
    const entry = entries()[0];
    expect(entry?.err).toEqual({
      code: "MANIFEST_INVALID",
      kind: "input",
      message: "the manifest is invalid",
      hint: "Run contrast manifest validate.",
      details: { path: "$.Policies" },
      cause: { code: "JSON_SYNTAX", kind: "input", message: "unexpected end of input", hint: "Fix the JSON." },
    });
    // Anything else thrown is written as the INTERNAL error the CLI would report.
    expect(entry?.other).toMatchObject({ code: "INTERNAL", kind: "internal", message: "boom" });
  });

  it("writes values JSON cannot hold in a readable form and never throws", () => {
    const { logger, entries } = capture();
    const cyclic: Record<string, unknown> = { name: "a" };
    cyclic.self = cyclic;
    const shared = { x: 1 };
    const deep: Record<string, unknown> = {};
    let cur = deep;
    for (let i = 0; i < 40; i++) {
      const next: Record<string, unknown> = {};
      cur.next = next;
      cur = next;
    }
    const throwing = {
      get bad(): never {
        throw new Error("getter");
      },
    };
    logger.info("odd values", {
      big: 2n ** 70n,
      nan: Number.NaN,
      inf: -Infinity,
      bytes: new Uint8Array([0, 255]),
      when: new Date(AT),
      map: new Map([["k", 1]]),
      set: new Set([1, 2]),
      cyclic,
      twice: [shared, shared],
      deep,
      throwing,
      fn: function named() {},
      sym: Symbol("s"),
      skipped: undefined,
    });
    const e = entries()[0];
    expect(e).toMatchObject({
      big: "1180591620717411303424",
      nan: "NaN",
      inf: "-Infinity",
      bytes: "AP8=",
      when: AT,
      map: { k: 1 },
      set: [1, 2],
      cyclic: { name: "a", self: "[Circular]" },
      twice: [{ x: 1 }, { x: 1 }],
      throwing: "[Unreadable]",
      fn: "[function named]",
      sym: "Symbol(s)",
    });
    expect(e && "skipped" in e).toBe(false);
    expect(JSON.stringify(e?.deep)).toContain("[Truncated]");
  });

  it("keeps the entry's own keys when a field has their name", () => {
    const { logger, entries } = capture({ fields: { level: "bound" } });
    logger.warn("real", { msg: "fake", time: "then" });
    const e = entries()[0];
    expect(e?.msg).toBe("real");
    expect(e?.level).toBe("WARN");
    expect(e?.time).toBe(AT);
    expect(e?.["fields.msg"]).toBe("fake");
    expect(e?.["fields.time"]).toBe("then");
    expect(e?.["fields.level"]).toBe("bound");
  });

  it("keeps a __proto__ key from untrusted input as an ordinary field", () => {
    const { logger, lines } = capture();
    logger.info("m", { headers: JSON.parse('{"__proto__": {"polluted": 1}}') as unknown });
    expect(lines[0]).toContain('"headers":{"__proto__":{"polluted":1}}');
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it("writes exactly one parseable line for any message and fields (property)", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: "grapheme" }), fc.constantFrom("a\nb", "\r\n", "\u2028\u2029", "\u0000")),
        fc.dictionary(fc.string({ unit: "grapheme" }), fc.jsonValue()),
        (msg, fields) => {
          const { logger, lines, entries } = capture();
          logger.warn(msg, fields);
          expect(lines).toHaveLength(1);
          expect(lines[0]?.indexOf("\n")).toBe((lines[0]?.length ?? 0) - 1);
          const entry = entries()[0];
          expect(entry?.msg).toBe(msg);
        },
      ),
      { numRuns: fuzzRuns(300) },
    );
  });
});
