import { describe, expect, it } from "vitest";
import { annotatedPolicies, encodePolicyAnnotation, POLICY_ANNOTATION, selectAnnotatedPolicy } from "../src/index.js";

const ann = (rego: string) => `{${POLICY_ANNOTATION}: ${encodePolicyAnnotation(rego)}}`;
const YAML = [
  `kind: Pod\nmetadata: {name: p1, annotations: ${ann("package agent_policy\n# p1")}}\nspec: {}`,
  `kind: Deployment\nmetadata: {name: d1}\nspec: {template: {metadata: {annotations: ${ann("package agent_policy\n# d1")}}}}`,
  `kind: CronJob\nmetadata: {name: c1}\nspec: {jobTemplate: {spec: {template: {metadata: {annotations: ${ann("package agent_policy\n# c1")}}}}}}`,
  `kind: List\nitems:\n  - kind: StatefulSet\n    metadata: {name: s1}\n    spec: {template: {metadata: {annotations: ${ann("package agent_policy\n# s1")}}}}`,
  "kind: Service\nmetadata: {name: svc}",
  // A Deployment's own annotations are not its pods': no policy comes from there.
  `kind: Deployment\nmetadata: {name: d2, annotations: ${ann("package agent_policy\n# wrong place")}}\nspec: {template: {}}`,
].join("\n---\n");

describe("the policies a YAML file carries", () => {
  it("finds each workload's policy where its pods get their annotations", () => {
    expect(annotatedPolicies(YAML, "app.yaml").map((a) => [a.workload, a.policy.split("\n")[1]])).toEqual([
      ["Pod/p1", "# p1"],
      ["Deployment/d1", "# d1"],
      ["CronJob/c1", "# c1"],
      ["StatefulSet/s1", "# s1"],
    ]);
  });

  it("picks a workload by name, and refuses to guess between different policies", () => {
    expect(selectAnnotatedPolicy(YAML, "app.yaml", "c1").policy).toContain("# c1");
    expect(() => selectAnnotatedPolicy(YAML, "app.yaml")).toThrow(
      expect.objectContaining({ code: "POLICY_WORKLOAD_AMBIGUOUS" }),
    );
    expect(() => selectAnnotatedPolicy(YAML, "app.yaml", "svc")).toThrow(
      expect.objectContaining({ code: "POLICY_NO_WORKLOAD" }),
    );
    // The same policy on every workload is no ambiguity.
    const same = [0, 1]
      .map((i) => `kind: Pod\nmetadata: {name: p${i}, annotations: ${ann("package x")}}`)
      .join("\n---\n");
    expect(selectAnnotatedPolicy(same, "same.yaml").workload).toBe("Pod/p0");
  });

  it("names the workload of an annotation that is not base64, and says when there is none", () => {
    const bad = `kind: Pod\nmetadata: {name: p1, annotations: {${POLICY_ANNOTATION}: "%%%"}}`;
    expect(() => annotatedPolicies(bad, "bad.yaml")).toThrow(
      expect.objectContaining({ code: "POLICY_ANNOTATION_INVALID", message: expect.stringContaining("Pod/p1") }),
    );
    expect(() => selectAnnotatedPolicy("kind: Service\nmetadata: {name: s}", "svc.yaml")).toThrow(
      expect.objectContaining({ code: "POLICY_ANNOTATION_MISSING" }),
    );
  });
});
