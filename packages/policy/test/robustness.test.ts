import { serializeYamlDocuments } from "@contrast/kube";
import { parseImageReference } from "@contrast/oci";
import { fuzzRuns } from "@contrast/testkit";
import fc from "fast-check";
import { dump } from "js-yaml";
import { describe, expect, it } from "vitest";
import { decodePolicyAnnotation, generatePolicies, PolicyError, parseYamlDocuments } from "../src/index.js";
import { fixtureImages } from "./fixtures/images.js";

const RUNS = fuzzRuns(100);
const images = fixtureImages();

/**
 * What policy generation accepted before the image code moved to @contrast/oci (the grammar of
 * the former policy-side parser): the one parser now used must refuse at least as much.
 */
function formerlyAccepted(reference: string): boolean {
  const at = reference.indexOf("@");
  const name = at < 0 ? reference : reference.slice(0, at);
  const digest = at < 0 ? undefined : reference.slice(at + 1);
  const slash = name.lastIndexOf("/");
  const colon = name.lastIndexOf(":");
  const tag = colon > slash ? name.slice(colon + 1) : undefined;
  const repository = colon > slash ? name.slice(0, colon) : name;
  return (
    repository !== "" &&
    !/\s/.test(reference) &&
    (digest === undefined || /^sha256:[0-9a-f]{64}$/.test(digest)) &&
    (tag === undefined || /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag))
  );
}

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

  it("annotation decoding throws only PolicyError (fuzz)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        try {
          decodePolicyAnnotation(s);
        } catch (e) {
          typedOnly(e);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("image references: a PolicyError unless the reference parses and is pinned by sha256, if at all (fuzz)", async () => {
    class Fetched extends Error {}
    const fetching = {
      get: async () => {
        throw new Fetched();
      },
      close: async () => {},
    };
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc
            .tuple(
              fc.constantFrom("", "ghcr.io/", "localhost:5000/", "Registry.Example/", "/"),
              fc.stringMatching(/^[a-zA-Z0-9._/-]{0,30}$/),
              fc.option(fc.stringMatching(/^[\w.-]{0,12}$/), { nil: undefined }),
              fc.option(
                fc.constantFrom(
                  `sha256:${"a".repeat(64)}`,
                  `sha256:${"A".repeat(64)}`,
                  `sha512:${"b".repeat(128)}`,
                  "sha256:abc",
                ),
                { nil: undefined },
              ),
            )
            .map(
              ([registry, repo, tag, digest]) =>
                `${registry}${repo}${tag === undefined ? "" : `:${tag}`}${digest === undefined ? "" : `@${digest}`}`,
            ),
        ),
        async (s) => {
          const pod = {
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name: "p" },
            spec: { containers: [{ name: "c", image: s }] },
          };
          let accepted: boolean;
          try {
            const ref = parseImageReference(s);
            accepted = ref.digest === undefined || ref.digest.startsWith("sha256:");
          } catch {
            accepted = false;
          }
          if (accepted) expect(formerlyAccepted(s)).toBe(true);
          try {
            await generatePolicies(dump(pod), { images: fetching, runtimeClassPrefixes: [] });
            expect.unreachable("the image source was not asked");
          } catch (e) {
            typedOnly(e);
            if (accepted) {
              // Only an accepted reference reaches the image source.
              expect((e as PolicyError).code).toBe("POLICY_IMAGE_METADATA");
              expect((e as PolicyError).cause).toBeInstanceOf(Fetched);
            } else {
              expect((e as PolicyError).code).toMatch(/^POLICY_(IMAGE_REFERENCE|OBJECT)_INVALID$/);
            }
          }
        },
      ),
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
