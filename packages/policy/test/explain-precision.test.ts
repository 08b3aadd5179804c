import { readdirSync, readFileSync } from "node:fs";
import type { JsonValue } from "@contrast/core";
import { describe, expect, it } from "vitest";
import {
  AgentPolicy,
  explainDenial,
  generatePolicies,
  honestRequestsForYaml,
  parseRequestStream,
  parseYamlDocuments,
} from "../src/index.js";
import { caseDirs, caseInputs } from "./conformance.js";
import { fixtureImages } from "./fixtures/images.js";

/** Reasons the explainer would give for requests the agent allowed: false accusations. */
function falseReasons(agent: AgentPolicy, requests: readonly { name: string; input: JsonValue }[]): string[] {
  const data = agent.policyData();
  const out: string[] = [];
  for (const [i, r] of requests.entries()) {
    const before = agent.state;
    if (!agent.decide(r.name, r.input).allowed) continue;
    for (const x of explainDenial(data, r.name, r.input, before)) {
      if (x.field !== "request") out.push(`#${i} ${x.field}: ${x.message}`);
    }
  }
  return out;
}

describe("explainDenial accuses no allowed request", () => {
  it("on the honest streams of every Kata conformance pod, with our rules", async () => {
    const wrong: string[] = [];
    for (const dir of caseDirs()) {
      const { name, settings, configFiles, pod } = caseInputs(dir);
      const images = fixtureImages();
      const g = await generatePolicies(pod, { images, settings, runtimeClassPrefixes: [], configFiles });
      const configDocuments = configFiles.flatMap((t) => parseYamlDocuments(t, "config").map((d) => d.value));
      const built = await honestRequestsForYaml(pod, { images, settings, configDocuments });
      for (const [i, b] of built.entries()) {
        const agent = new AgentPolicy(g.workloads[i]?.policy ?? "");
        wrong.push(...falseReasons(agent, b.stream.requests).map((m) => `${name} ${m}`));
      }
    }
    expect(wrong).toEqual([]);
  });

  it("on regorus' recorded Kata streams (Kata's own rules), for the checks both rule sets share", () => {
    // Kata's older rules do not compare the pause container's GID nor additional GIDs, and describe layers and volume storages
    // differently; the explainer follows our rules there.
    const differs = new Set(["image", "storages", "user.additional_gids", "user.gid"]);
    const kata = new URL("../../../testdata/rego/regorus-kata/", import.meta.url).pathname;
    const wrong: string[] = [];
    let allowed = 0;
    for (const d of readdirSync(kata, { withFileTypes: true }).filter((x) => x.isDirectory())) {
      const agent = new AgentPolicy(readFileSync(`${kata}${d.name}/policy.rego`, "utf8"));
      const requests = parseRequestStream(readFileSync(`${kata}${d.name}/inputs.txt`, "utf8"));
      allowed += requests.length;
      wrong.push(
        ...falseReasons(agent, requests)
          .filter((m) => !differs.has(m.split(" ")[1]?.replace(/:$/, "") ?? ""))
          .map((m) => `${d.name} ${m}`),
      );
    }
    expect(allowed).toBe(442);
    expect(wrong).toEqual([]);
  });
});

describe("explainDenial names the pause container's log directory", () => {
  const job = (name: string) =>
    `apiVersion: batch/v1\nkind: Job\nmetadata: {name: "${name}"}\nspec:\n  template:\n    spec:\n      runtimeClassName: contrast-cc\n      containers: [{name: test, image: "registry.k8s.io/pause:3.6@sha256:3d380ca8864549e74af4b29c10f9cb0956236dfb01c40ca076fb6c37253234db"}]\n`;

  it("when the sandbox name cannot stand in the policy's pattern (an unsubstituted template name)", async () => {
    // Kata's job-template.yaml is named process-item-$ITEM until its test seds ITEM in; "$" in the
    // name then ends the log directory pattern early and the pause container is denied.
    const images = fixtureImages();
    const yaml = job("process-item-$ITEM");
    const g = await generatePolicies(yaml, { images });
    const [built] = await honestRequestsForYaml(yaml, { images });
    const agent = new AgentPolicy(g.workloads[0]?.policy ?? "");
    const pause = agent.decideAll(built?.stream.requests ?? [])[1];
    expect(pause?.allowed).toBe(false);
    expect(pause?.reasons?.map((r) => r.field)).toEqual(["sandbox-log-directory"]);
  });

  it("when the runtime sends another pod's log directory", async () => {
    const images = fixtureImages();
    const yaml = job("process-item-test1");
    const g = await generatePolicies(yaml, { images });
    const [built] = await honestRequestsForYaml(yaml, { images });
    const requests = structuredClone(built?.stream.requests ?? []) as { name: string; input: JsonValue }[];
    const pause = requests[1]?.input as { OCI: { Annotations: Record<string, string> } };
    const key = "io.kubernetes.cri.sandbox-log-directory";
    pause.OCI.Annotations[key] = (pause.OCI.Annotations[key] ?? "").replace("process-item-test1", "other");
    const agent = new AgentPolicy(g.workloads[0]?.policy ?? "");
    const d = agent.decideAll(requests)[1];
    expect(d?.allowed).toBe(false);
    expect(d?.reasons?.map((r) => r.field)).toEqual(["sandbox-log-directory"]);
  });
});
