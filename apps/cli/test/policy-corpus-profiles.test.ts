import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import type { JsonValue } from "@contrast/core";
import { createOfflineImageSource, parseImageMetadataDocument } from "@contrast/oci";
import {
  AgentPolicy,
  DEFAULT_POLICY_PLATFORM,
  generatePolicies,
  honestRequestsForYaml,
  PolicyError,
  parseYamlDocuments,
  policyProfiles,
} from "@contrast/policy";
import { describe, expect, it } from "vitest";
import { CORPUS, CORPUS_DATA, CORPUS_FILES, CORPUS_WORKLOADS, corpusConfigFiles, corpusText } from "./corpus.js";
import { type Req, tampers } from "./tampers.js";

/**
 * The real-world corpus under every platform profile, in-process (the built CLI runs it under the
 * default profile in policy-corpus.test.ts; spawning it four times per file and profile would
 * cost minutes for the same functions). For each profile and file: generate, build the honest
 * requests that profile's runtime sends, check them with each workload's own policy (all
 * allowed), then every tamper of the corpus test (each denied with its reason).
 */
const IMAGES = createOfflineImageSource(parseImageMetadataDocument(readFileSync(join(CORPUS, "images.json"))));

describe.each(policyProfiles().filter((p) => p.id !== DEFAULT_POLICY_PLATFORM))(
  "real-world corpus under the $id profile",
  (profile) => {
    let workloads = 0;
    for (const path of CORPUS_FILES) {
      const name = relative(CORPUS, path);
      it(name, async () => {
        const configFiles = [corpusText(path), ...corpusConfigFiles(path).map(corpusText)];
        const options = { images: IMAGES, profile, runtimeClassPrefixes: [], configFiles, source: name };
        const expected = CORPUS_DATA.expectedFailures[name];
        if (expected !== undefined) {
          await expect(generatePolicies(corpusText(path), options)).rejects.toSatisfy(
            (e) => e instanceof PolicyError && e.code === expected.code,
          );
          return;
        }
        const generated = await generatePolicies(corpusText(path), options);
        const configDocuments = configFiles.flatMap((t) => parseYamlDocuments(t, name).map((d) => d.value));
        const streams = await honestRequestsForYaml(generated.yaml, {
          images: IMAGES,
          profile,
          configDocuments,
          source: name,
        });
        expect(streams.map((s) => s.template.name || s.template.generateName)).toEqual(
          generated.workloads.map((w) => w.name),
        );
        streams.forEach(({ stream }, i) => {
          const workload = generated.workloads[i];
          if (workload === undefined) throw new Error("no workload for a stream");
          workloads++;
          const agent = new AgentPolicy(workload.policy);
          const denied = stream.requests
            .map((r) => ({ r, d: agent.decide(r.name, r.input as JsonValue) }))
            .filter(({ d }) => !d.allowed)
            .map(({ r, d }) => `${workload.name} ${r.name}: ${(d.reasons ?? []).map((x) => x.message).join("; ")}`);
          expect(denied).toEqual([]);
          for (const t of tampers(stream.requests as { name: string; input: Req }[])) {
            const d = agent.decide(t.request.name, t.request.input as JsonValue);
            expect({ what: t.what, allowed: d.allowed }).toEqual({ what: t.what, allowed: false });
            expect(
              (d.reasons ?? []).some((x) => x.message.includes(t.reason)),
              `${workload.name} ${t.what}: ${(d.reasons ?? []).map((x) => x.message).join("; ")}`,
            ).toBe(true);
          }
        });
      }, 60_000);
    }
    it("covered every workload of the corpus", () => {
      expect(workloads).toBe(CORPUS_WORKLOADS);
    });
  },
);
