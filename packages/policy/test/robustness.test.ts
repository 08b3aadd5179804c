import { serializeYamlDocuments } from "@contrast/kube";
import fc from "fast-check";
import { dump } from "js-yaml";
import { describe, expect, it } from "vitest";
import { parseImageReference } from "../src/image.js";
import { decodePolicyAnnotation, generatePolicies, PolicyError, parseYamlDocuments } from "../src/index.js";
import { fixtureImages } from "./fixtures/images.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 100);
const images = fixtureImages();

function typedOnly(e: unknown): void {
  if (!(e instanceof PolicyError)) throw e;
}

describe("hostile input", () => {
  it("YAML parsing throws only PolicyError (fuzz)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        try {
          parseYamlDocuments(text);
        } catch (e) {
          typedOnly(e);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("generation on arbitrary documents throws only PolicyError (fuzz)", async () => {
    const podLike = fc.record({
      apiVersion: fc.constant("v1"),
      kind: fc.constantFrom("Pod", "Deployment", "List", "ConfigMap", "CronJob"),
      metadata: fc.option(fc.record({ name: fc.string(), annotations: fc.anything() }), { nil: undefined }),
      spec: fc.anything(),
      items: fc.option(fc.array(fc.anything(), { maxLength: 2 }), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(podLike, async (doc) => {
        let text: string;
        try {
          text = dump(doc, { skipInvalid: true } as never);
        } catch {
          return;
        }
        try {
          await generatePolicies(text, { images, runtimeClassPrefixes: [] });
        } catch (e) {
          typedOnly(e);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("annotation decoding and image references throw only PolicyError (fuzz)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        for (const f of [decodePolicyAnnotation, parseImageReference]) {
          try {
            f(s);
          } catch (e) {
            typedOnly(e);
          }
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("round-trips documents it does not change byte for byte (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 8 })), {
          maxLength: 4,
        }),
        (objs) => {
          const text = objs.map((o) => `---\n${dump(o)}`).join("");
          const docs = parseYamlDocuments(text);
          expect(docs.map((d) => d.value).filter((v) => v !== null)).toEqual(objs);
          if (text !== "") expect(serializeYamlDocuments(docs.map((d) => ({ raw: d.raw })))).toBe(text);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
