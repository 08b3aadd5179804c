import { expectCode, fuzzRuns } from "@contrast/testkit";
import fc from "fast-check";
import { dump, loadAll } from "js-yaml";
import { describe, expect, it } from "vitest";
import { KubeError } from "../src/errors.js";
import { parseYamlDocuments, serializeYamlDocuments } from "../src/yaml.js";
import { FILES, name, read } from "./corpus.js";

const RUNS = fuzzRuns(200);

describe("multi-document YAML on the real-world corpus", () => {
  it("finds the corpus and emojivoto", () => {
    expect(FILES.length).toBeGreaterThanOrEqual(120);
    expect(FILES.some((f) => f.endsWith("emojivoto/web.yml"))).toBe(true);
  });

  for (const file of FILES) {
    it(`${name(file)}: reads every document js-yaml reads and writes the file back byte for byte`, () => {
      const text = read(file);
      let expected: unknown[];
      try {
        expected = loadAll(text);
      } catch {
        // A template whose placeholders are not YAML yet: we must refuse it too.
        expectCode(() => parseYamlDocuments(text, name(file)), "KUBE_YAML_INVALID", "input");
        return;
      }
      const docs = parseYamlDocuments(text, name(file));
      const values = docs.filter((d) => d.preamble !== true).map((d) => d.value);
      expect(values.filter((v) => v !== null)).toEqual(expected.filter((v) => v !== null && v !== undefined));
      // Byte for byte; a file without a final newline gets one.
      expect(serializeYamlDocuments(docs)).toBe(text === "" || text.endsWith("\n") ? text : `${text}\n`);
    });
  }
});

describe("separators", () => {
  it("keeps a licence preamble before the first ---, and a first document no --- opened", () => {
    const text = "# Copyright\n# SPDX-License-Identifier: Apache-2.0\n---\na: 1\n---\nb: 2\n";
    const docs = parseYamlDocuments(text);
    expect(docs.map((d) => d.preamble === true)).toEqual([true, false, false]);
    expect(serializeYamlDocuments(docs)).toBe(text);
    const bare = "a: 1\n---\nb: 2\n";
    const bareDocs = parseYamlDocuments(bare);
    expect(bareDocs[0]?.opened).toBe(false);
    expect(serializeYamlDocuments(bareDocs)).toBe(bare);
  });

  it("does not split at a --- inside a block scalar (it is indented there)", () => {
    const text = "---\ndata:\n  script: |\n    echo a\n    ---\n    echo b\n";
    const docs = parseYamlDocuments(text);
    expect(docs).toHaveLength(1);
    expect(docs[0]?.value).toEqual({ data: { script: "echo a\n---\necho b\n" } });
  });

  it("reports the document's line and the source name in KUBE_YAML_INVALID", () => {
    const text = "---\na: 1\n---\nb: [1,\n";
    let thrown: unknown;
    try {
      parseYamlDocuments(text, "app.yaml");
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(KubeError);
    expect((thrown as KubeError).code).toBe("KUBE_YAML_INVALID");
    expect((thrown as KubeError).message.startsWith("app.yaml:4:")).toBe(true);
  });
});

describe("hostile input", () => {
  it("parsing throws only KubeError (fuzz)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        try {
          parseYamlDocuments(text);
        } catch (e) {
          if (!(e instanceof KubeError)) throw e;
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("keeps blank lines and comments between documents (property)", () => {
    const obj = fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.string({ maxLength: 8 }), { maxKeys: 3 });
    const gap = fc.array(fc.constantFrom("", "# note", "  "), { maxLength: 3 });
    fc.assert(
      fc.property(fc.array(fc.tuple(obj, gap), { minLength: 1, maxLength: 4 }), fc.boolean(), (parts, finalNewline) => {
        const joined = parts.map(([o, g]) => `---\n${dump(o)}${g.map((l) => `${l}\n`).join("")}`).join("");
        const text = finalNewline ? joined : joined.replace(/\n$/, "");
        const docs = parseYamlDocuments(text);
        expect(docs.map((d) => d.value)).toEqual(parts.map(([o]) => (Object.keys(o).length === 0 ? {} : o)));
        expect(serializeYamlDocuments(docs)).toBe(text.endsWith("\n") ? text : `${text}\n`);
      }),
      { numRuns: RUNS },
    );
  });

  it("round-trips documents it does not change byte for byte (property)", () => {
    const obj = fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), {
      maxKeys: 4,
    });
    fc.assert(
      fc.property(fc.array(obj, { maxLength: 4 }), (objs) => {
        const text = objs.map((o) => `---\n${dump(o)}`).join("");
        const docs = parseYamlDocuments(text);
        // JSON has no -0: js-yaml writes it as -0.0 and reads -0 back, so compare through JSON on
        // both sides rather than on the expected side only.
        const asJson = (v: unknown): unknown => JSON.parse(JSON.stringify(v));
        expect(asJson(docs.map((d) => d.value).filter((v) => v !== null))).toEqual(asJson(objs));
        if (text !== "") expect(serializeYamlDocuments(docs)).toBe(text);
      }),
      // The first example is the counterexample a CI run found (seed 1937288793).
      { numRuns: RUNS, examples: [[[{ " ": -0 }]]] },
    );
  });
});

describe("long opaque strings written by edits (the policy annotation's path)", () => {
  const base = "# keep me\nkind: Pod\nmetadata:\n  name: p # and me\n  annotations:\n    other: x\n";
  const write = (raw: string, value: string) => {
    const doc = parseYamlDocuments(raw)[0];
    const expected = loadAll(raw)[0] as { metadata: { annotations: Record<string, unknown> } };
    expected.metadata.annotations.policy = value;
    return serializeYamlDocuments([
      {
        raw: doc?.raw ?? "",
        value: expected,
        edits: [{ path: ["metadata", "annotations", "policy"], value }],
        opened: false,
      },
    ]);
  };
  const b64 = fc
    .array(fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".split("")), {
      minLength: 200,
      maxLength: 2000,
    })
    .map((cs) => cs.join(""));
  const numberish = fc
    .array(fc.constantFrom(..."0123456789abcdefABCDEFxXoObBeE+".split("")), { minLength: 256, maxLength: 600 })
    .map((cs) => cs.join(""));

  it("read back as the same string, with the comments kept (property)", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          b64,
          numberish,
          b64.map((s) => `${s}==`),
        ),
        (value) => {
          const text = write(base, value);
          expect(text).toContain("# keep me");
          expect(text).toContain("# and me");
          const back = loadAll(text)[0] as { metadata: { annotations: Record<string, unknown> } };
          expect(back.metadata.annotations.policy).toBe(value);
          expect(back.metadata.annotations.other).toBe("x");
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("a number-like value or one the input already names is still written correctly", () => {
    // Digits only: as a plain scalar it would read as a number, so it must be quoted.
    const digits = "1".repeat(300);
    expect(
      (loadAll(write(base, digits))[0] as { metadata: { annotations: { policy: unknown } } }).metadata.annotations
        .policy,
    ).toBe(digits);
    const float = `1${"0".repeat(300)}e+5`;
    expect(
      (loadAll(write(base, float))[0] as { metadata: { annotations: { policy: unknown } } }).metadata.annotations
        .policy,
    ).toBe(float);
    // The input holds the placeholder word itself: the edit must not land there.
    const sneaky = `${base}    note: contrastPlaceholder0x${base.length}\n`;
    const value = "Zm9v".repeat(100);
    const text = write(sneaky, value);
    const back = loadAll(text)[0] as { metadata: { annotations: Record<string, unknown> } };
    expect(back.metadata.annotations.policy).toBe(value);
    expect(back.metadata.annotations.note).toBe(`contrastPlaceholder0x${base.length}`);
  });
});

describe("long opaque strings edited twice", () => {
  it("the last edit of a path wins, and the same string at two paths is written at both", () => {
    const raw = "kind: Pod # c\nmetadata:\n  name: p\n";
    const first = "QUJD".repeat(100);
    const second = "WFla".repeat(100);
    const value = { kind: "Pod", metadata: { name: "p", annotations: { a: second, b: second } } };
    const text = serializeYamlDocuments([
      {
        raw,
        value,
        opened: false,
        edits: [
          { path: ["metadata", "annotations", "a"], value: first },
          { path: ["metadata", "annotations", "a"], value: second },
          { path: ["metadata", "annotations", "b"], value: second },
        ],
      },
    ]);
    expect(loadAll(text)[0]).toEqual(value);
    expect(text).not.toContain("contrastPlaceholder");
  });
});
