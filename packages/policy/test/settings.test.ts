import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fuzzRuns } from "@contrast/testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_RULES } from "../src/default-rules.js";
import { applyJsonPatch, DEFAULT_SETTINGS, loadSettings, PolicyError, settingsToJson } from "../src/index.js";
import { parseJsonPatch } from "../src/settings/json-patch.js";
import { TESTDATA } from "./conformance.js";

const RUNS = fuzzRuns(200);

describe("JSON Patch (RFC 6902)", () => {
  const doc = { a: { b: [1, 2, 3] }, "x/y": { "m~n": 1 } };

  it("applies add, remove, replace, move, copy and test", () => {
    expect(applyJsonPatch(doc, [{ op: "add", path: "/a/b/1", value: 9 }]).a.b).toEqual([1, 9, 2, 3]);
    expect(applyJsonPatch(doc, [{ op: "add", path: "/a/b/-", value: 9 }]).a.b).toEqual([1, 2, 3, 9]);
    expect(applyJsonPatch(doc, [{ op: "remove", path: "/a/b/0" }]).a.b).toEqual([2, 3]);
    expect(applyJsonPatch(doc, [{ op: "replace", path: "/x~1y/m~0n", value: 2 }])["x/y"]).toEqual({ "m~n": 2 });
    expect(applyJsonPatch(doc, [{ op: "move", from: "/a/b", path: "/c" }])).toEqual({
      a: {},
      c: [1, 2, 3],
      "x/y": { "m~n": 1 },
    });
    expect(applyJsonPatch(doc, [{ op: "copy", from: "/a/b/2", path: "/a/c" }]).a).toEqual({ b: [1, 2, 3], c: 3 });
    expect(applyJsonPatch(doc, [{ op: "test", path: "/a/b", value: [1, 2, 3] }])).toEqual(doc);
    expect(applyJsonPatch(doc, [{ op: "replace", path: "", value: 5 }])).toBe(5);
  });

  it("fails atomically, with a typed error, on a bad operation", () => {
    for (const op of [
      { op: "test", path: "/a/b/0", value: 2 },
      { op: "replace", path: "/nope", value: 1 },
      { op: "remove", path: "/a/b/7" },
      { op: "add", path: "/a/b/01", value: 1 },
      { op: "move", from: "/a", path: "/a/b/c" },
    ] as const) {
      expect(() => applyJsonPatch(doc, [op])).toThrow(PolicyError);
    }
    expect(doc.a.b).toEqual([1, 2, 3]);
    expect(() => parseJsonPatch([{ op: "frobnicate", path: "/" }], "p")).toThrow(/unknown op/);
    expect(() => parseJsonPatch({}, "p")).toThrow(PolicyError);
  });

  it("keeps __proto__ as data (property)", () => {
    const out = applyJsonPatch({}, [{ op: "add", path: "/__proto__", value: { polluted: true } }]) as Record<
      string,
      unknown
    >;
    expect(Object.hasOwn(out, "__proto__")).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("never throws anything but PolicyError on arbitrary patches (fuzz)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (target, patch) => {
        try {
          applyJsonPatch(target, parseJsonPatch(patch, "fuzz"));
        } catch (e) {
          if (!(e instanceof PolicyError)) throw e;
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe("settings", () => {
  const kata = readFileSync(join(TESTDATA, "genpolicy-settings.json"), "utf8");

  it("match Kata's default settings file", () => {
    expect(loadSettings(kata)).toEqual(DEFAULT_SETTINGS);
    expect(loadSettings(settingsToJson(DEFAULT_SETTINGS))).toEqual(DEFAULT_SETTINGS);
  });

  it("apply Kata's drop-in examples in name order", () => {
    const dir = join(TESTDATA, "drop-in-examples");
    const dropIns = readdirSync(dir).map((name) => ({ name, text: readFileSync(join(dir, name), "utf8") }));
    // 10-non-coco-* set guest_pull false and root_path; 20-oci-1.3.0 wins over 1.2.x by order.
    const s = loadSettings(kata, dropIns);
    expect(s.cluster_config.guest_pull).toBe(false);
    expect(s.kata_config.oci_version).toBe("1.3.0");
    expect(s.common.root_path).toBe("/run/kata-containers/shared/containers/$(bundle-id)/rootfs");
  });

  it("reject a broken settings document with the failing path", () => {
    const broken = JSON.stringify({ ...DEFAULT_SETTINGS, common: { ...DEFAULT_SETTINGS.common, cpath: 7 } });
    expect(() => loadSettings(broken)).toThrow(/\/common\/cpath must be a string/);
    expect(() => loadSettings("{")).toThrow(PolicyError);
    expect(() => loadSettings(kata, [{ name: "bad.json", text: '[{"op":"remove","path":"/nope"}]' }])).toThrow(
      /bad.json\[0\]/,
    );
  });
});

describe("rules.rego", () => {
  it("is what the library embeds (run scripts/embed-rules.mjs after editing)", () => {
    expect(readFileSync(new URL("../rules.rego", import.meta.url), "utf8")).toBe(DEFAULT_RULES);
  });
});
