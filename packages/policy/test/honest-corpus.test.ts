import { describe, expect, it } from "vitest";
import { AgentPolicy, generatePolicies, honestRequestsForYaml, parseYamlDocuments } from "../src/index.js";
import { caseDirs, caseInputs } from "./conformance.js";
import { fixtureImages } from "./fixtures/images.js";

/**
 * For every pod of Kata's conformance tables: the requests an honest runtime sends, built from
 * the pod spec, the image configs and the settings (not from the policy), are all allowed by the
 * generated policy, decided as the agent decides them.
 */
describe("honest requests of Kata's conformance pods", () => {
  for (const dir of caseDirs()) {
    const { name, settings, configFiles, pod } = caseInputs(dir);
    it(`${name}: every honest request is allowed`, async () => {
      const images = fixtureImages();
      const generated = await generatePolicies(pod, { images, settings, runtimeClassPrefixes: [], configFiles });
      const built = await honestRequestsForYaml(pod, {
        images,
        settings,
        configDocuments: configFiles.flatMap((t) => parseYamlDocuments(t, "config").map((d) => d.value)),
      });
      expect(built.length).toBe(generated.workloads.length);
      for (const [i, { stream }] of built.entries()) {
        const agent = new AgentPolicy(generated.workloads[i]?.policy ?? "");
        const denied = agent
          .decideAll(stream.requests)
          .flatMap((d, n) =>
            d.allowed ? [] : [`#${n} ${d.request}: ${(d.reasons ?? []).map((r) => r.message).join("; ")}`],
          );
        expect(denied).toEqual([]);
        expect(stream.requests.filter((r) => r.name === "CreateContainerRequest").length).toBe(
          stream.containers.length,
        );
      }
    });
  }
});
