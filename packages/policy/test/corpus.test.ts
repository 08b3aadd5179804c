import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generatePolicies, PolicyError } from "../src/index.js";
import {
  CORPUS_EXPECTED_FAILURES,
  CORPUS_IMAGES,
  corpusFiles,
  corpusOptions,
  REPO,
  syntheticImageDocument,
  syntheticImageSource,
} from "./corpus.js";

/**
 * Every manifest of the real-world corpus generates (or fails with its documented, deliberate
 * error), twice with the same bytes. Every pod spec is selected (runtimeClassPrefixes: []): the
 * corpus names Kata's runtime classes or none, and the point is to read real manifests.
 */
const files = corpusFiles();
const options = corpusOptions;

describe("real-world corpus (testdata/kube)", () => {
  it("holds the four sources", () => {
    const dirs = new Set(files.map((f) => f.name.split("/")[0]));
    expect([...dirs].sort()).toEqual([
      "istio-bookinfo",
      "k8s-website",
      "kata-runtimeclass-workloads",
      "microservices-demo",
    ]);
    expect(files.length).toBeGreaterThan(100);
  });

  it("has image metadata for exactly its images, derived as corpus.ts says (synthetic)", async () => {
    const source = syntheticImageSource();
    for (const f of files) {
      try {
        await generatePolicies(f.text, options(f, source));
      } catch (e) {
        if (!(e instanceof PolicyError) || f.expectedFailure === undefined) throw e;
      }
    }
    const expected = await syntheticImageDocument(source.references);
    // CORPUS_UPDATE=1 rewrites the file after the corpus changed; the test then compares again.
    if (process.env.CORPUS_UPDATE === "1") writeFileSync(CORPUS_IMAGES, expected);
    expect(readFileSync(CORPUS_IMAGES, "utf8")).toBe(expected);
  });

  it.each(files.map((f) => [f.name, f] as const))("%s", async (_name, file) => {
    if (file.expectedFailure !== undefined) {
      const error = await generatePolicies(file.text, options(file)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(PolicyError);
      expect((error as PolicyError).code).toBe(file.expectedFailure.code);
      expect((error as PolicyError).details?.file).toBe(file.name);
      return;
    }
    const first = await generatePolicies(file.text, options(file));
    const second = await generatePolicies(file.text, options(file));
    expect(second.yaml).toBe(first.yaml);
    expect(second.workloads.map((w) => w.policyHash)).toEqual(first.workloads.map((w) => w.policyHash));
    // Documents without a workload keep their text; each workload's policy is in the output.
    for (const w of first.workloads) expect(first.yaml).toContain(Buffer.from(w.policy).toString("base64"));
    // Comments survive: the yaml document API rewrites annotated workloads from their own text.
    const comments = (t: string) =>
      t
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l.startsWith("#"));
    expect(comments(first.yaml)).toEqual(comments(file.text));
    // The output is generated again to the same policies (the annotation is replaced, not added).
    const again = await generatePolicies(first.yaml, options(file));
    expect(again.workloads.map((w) => w.policyHash)).toEqual(first.workloads.map((w) => w.policyHash));
  });

  it("has the figures docs/policy.md gives", async () => {
    let withWorkloads = 0;
    let workloads = 0;
    let failed = 0;
    for (const f of files) {
      if (f.expectedFailure !== undefined) {
        failed++;
        continue;
      }
      const r = await generatePolicies(f.text, options(f));
      if (r.workloads.length > 0) withWorkloads++;
      workloads += r.workloads.length;
    }
    const docs = readFileSync(join(REPO, "docs/policy.md"), "utf8");
    const total = /\| \*\*total\*\* +\| \*\*(\d+)\*\* +\| \*\*(\d+)\*\* +\| \*\*(\d+)\*\* +\| \*\*(\d+)\*\* +\|/.exec(
      docs,
    );
    expect(total?.slice(1).map(Number)).toEqual([files.length, withWorkloads, workloads, failed]);
  });

  it("lists every deliberate failure, with its reason, in docs/policy.md", () => {
    const docs = readFileSync(join(REPO, "docs/policy.md"), "utf8");
    for (const [name, { code }] of Object.entries(CORPUS_EXPECTED_FAILURES)) {
      expect(docs).toContain(`\`${name}\``);
      expect(docs).toContain(code);
    }
  });
});
