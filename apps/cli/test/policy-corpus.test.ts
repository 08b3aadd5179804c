import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { formatRequestStream } from "@contrast/policy";
import { describe, expect, it } from "vitest";
import { CORPUS, CORPUS_DATA, CORPUS_FILES, CORPUS_WORKLOADS, corpusConfigFiles, corpusText } from "./corpus.js";
import { runBundle, tempDir } from "./helpers.js";
import { type Checked, type Req, tampers } from "./tampers.js";

/**
 * The real-world corpus (testdata/kube: Kata's runtimeclass_workloads, microservices-demo, Istio's
 * bookinfo, the Kubernetes docs' StatefulSets) through the built CLI, as a user runs it:
 * `policy generate` annotates each file with the built-in settings, `policy requests` builds what
 * an honest runtime sends for each workload (from the pod spec and the images, not from the
 * policy), `policy check --honest` allows all of it, and every tamper of issue 11 is denied with
 * its reason by `policy check --workload <name> --requests`. The image metadata is synthetic
 * (testdata/kube/README.md); placeholders and deliberate failures are in testdata/kube/corpus.json.
 */
const FILES = CORPUS_FILES;
const DATA = CORPUS_DATA;
const text = corpusText;

const run = runBundle;

interface Streams {
  workloads: { workload: string; requests: { name: string; input: Req }[] }[];
}

/** Totals over the corpus, checked at the end so a silently shrinking corpus fails. */
const totals = { files: 0, generated: 0, failedOnPurpose: 0, workloads: 0, honest: 0, tampers: 0 };
/** The same figures per source folder (testdata/kube/<source>/), for the docs' table. */
const bySource = new Map<string, typeof totals>();
const count = (name: string, key: keyof typeof totals, n = 1) => {
  totals[key] += n;
  const source = name.split("/")[0] as string;
  const t = bySource.get(source) ?? { files: 0, generated: 0, failedOnPurpose: 0, workloads: 0, honest: 0, tampers: 0 };
  t[key] += n;
  bySource.set(source, t);
};

describe("real-world corpus through the built CLI: generate, honest requests allowed, tampers denied", () => {
  for (const path of FILES) {
    const name = relative(CORPUS, path);
    it(name, () => {
      count(name, "files");
      const dir = tempDir();
      writeFileSync(join(dir, "pod.yaml"), text(path));
      // The directory's other files hold the ConfigMaps and Secrets, as `policy generate <dir>` reads them.
      const config = corpusConfigFiles(path).map((p, i) => {
        writeFileSync(join(dir, `config-${i}.yaml`), text(p));
        return ["--config", `config-${i}.yaml`];
      });
      writeFileSync(join(dir, "images.json"), readFileSync(join(CORPUS, "images.json")));
      mkdirSync(join(dir, "work"));
      const opts = ["--image-metadata", "images.json", ...config.flat()];
      const gen = run(dir, ["policy", "generate", "pod.yaml", "--all-pods", ...opts, "-o", "json"]);
      const expected = DATA.expectedFailures[name];
      if (expected !== undefined) {
        expect(gen.status).toBe(1);
        expect(gen.stdout + gen.stderr).toContain(expected.code);
        count(name, "failedOnPurpose");
        return;
      }
      expect(gen.status, gen.stdout + gen.stderr).toBe(0);
      count(name, "generated");
      const generated = (JSON.parse(gen.stdout) as { workloads: { kind: string; name: string }[] }).workloads;
      if (generated.length === 0) return; // no pod spec in this file (e.g. a ConfigMap)

      const honest = run(dir, ["policy", "check", "pod.yaml", "--honest", ...opts, "-o", "json"]);
      const honestJson = JSON.parse(honest.stdout || "{}") as {
        workloads?: { workload: string; decisions: Checked["decisions"] }[];
      };
      const denials = (honestJson.workloads ?? []).flatMap((w) =>
        w.decisions
          .filter((d) => !d.allowed)
          .map((d) => `${w.workload} ${d.kind}: ${d.reasons?.map((r) => r.message)}`),
      );
      expect(denials).toEqual([]);
      expect(honest.status, honest.stderr).toBe(0);

      const req = run(dir, ["policy", "requests", "pod.yaml", ...opts, "-o", "json"]);
      expect(req.status, req.stderr).toBe(0);
      const streams = JSON.parse(req.stdout) as Streams;
      expect(streams.workloads.map((w) => w.workload)).toEqual(generated.map((g) => `${g.kind}/${g.name}`));
      expect(honestJson.workloads?.map((w) => w.workload)).toEqual(generated.map((g) => `${g.kind}/${g.name}`));
      for (const w of streams.workloads) {
        count(name, "workloads");
        count(name, "honest", w.requests.length);
        const bad = tampers(w.requests);
        count(name, "tampers", bad.length);
        writeFileSync(join(dir, "tampered.txt"), formatRequestStream([...w.requests, ...bad.map((t) => t.request)]));
        const workload = w.workload.slice(w.workload.indexOf("/") + 1);
        const r = run(dir, [
          "policy",
          "check",
          "pod.yaml",
          "--workload",
          workload,
          "--requests",
          "tampered.txt",
          "-o",
          "json",
        ]);
        expect(r.status, r.stderr).toBe(2);
        const json = JSON.parse(r.stdout) as Checked;
        expect(json.decisions.slice(0, w.requests.length).every((d) => d.allowed)).toBe(true);
        const got = json.decisions.slice(w.requests.length).map((d, i) => {
          const reason = bad[i]?.reason ?? "\u0000";
          const explained = (d.reasons ?? []).some((x) => x.message.includes(reason));
          return {
            workload: w.workload,
            what: bad[i]?.what,
            allowed: d.allowed,
            explained,
            reasons: d.allowed || explained ? [] : d.reasons?.map((x) => x.message),
          };
        });
        expect(got).toEqual(
          bad.map((t) => ({ workload: w.workload, what: t.what, allowed: false, explained: true, reasons: [] })),
        );
      }
    }, 120_000);
  }

  it("covered the whole corpus", () => {
    // Figures of the closing note of issue 11; a change in the corpus must show up here.
    process.stdout.write(`corpus through the CLI: ${JSON.stringify(totals)}\n`);
    for (const [source, t] of [...bySource].sort()) process.stdout.write(`  ${source}: ${JSON.stringify(t)}\n`);
    expect(totals.files).toBe(FILES.length);
    expect(totals.failedOnPurpose).toBe(Object.keys(DATA.expectedFailures).length);
    expect(totals.generated + totals.failedOnPurpose).toBe(FILES.length);
    expect(totals.workloads).toBe(CORPUS_WORKLOADS);
  });
});
