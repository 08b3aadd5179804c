import { execFileSync } from "node:child_process";
import { load } from "js-yaml";
import { describe, expect, it } from "vitest";
import {
  AgentPolicy,
  annotatedPolicies,
  encodeInitdataAnnotation,
  encodePolicyAnnotation,
  generatePolicies,
  honestRequestsForYaml,
  INITDATA_ANNOTATION,
  initdataPolicy,
  POLICY_ANNOTATION,
  PolicyError,
  parseInitdata,
  policyInitdata,
  policyProfile,
  selectAnnotatedPolicy,
} from "../src/index.js";
import { fixtureImages } from "./fixtures/images.js";

const IMAGE = "registry.k8s.io/pause:3.6@sha256:3d380ca8864549e74af4b29c10f9cb0956236dfb01c40ca076fb6c37253234db";
const POD = `apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
  annotations:
    team: payments   # kept
spec:
  runtimeClassName: contrast-cc
  containers:
    - name: app
      image: ${IMAGE}
      command: ["/pause", "--serve"]
`;
const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  template:
    spec:
      runtimeClassName: contrast-cc
      containers:
        - name: app
          image: ${IMAGE}
`;

type Annotated = { metadata: { annotations: Record<string, string> } };

describe("generatePolicies with annotation: initdata", () => {
  it("writes the policy into cc_init_data, and the manifest hash is the SHA-256 of the TOML", async () => {
    const images = fixtureImages();
    const r = await generatePolicies(POD, { images, annotation: "initdata" });
    const [w] = r.workloads;
    expect(w?.annotation).toBe("initdata");
    const annotations = (load(r.yaml.replace(/^---\n/, "")) as Annotated).metadata.annotations;
    expect(annotations[POLICY_ANNOTATION]).toBeUndefined();
    expect(annotations.team).toBe("payments");
    expect(r.yaml).toContain("# kept");
    const value = annotations[INITDATA_ANNOTATION] as string;
    const toml = execFileSync("gzip", ["-dc"], { input: Buffer.from(value, "base64") });
    expect(toml.toString("utf8")).toBe(w?.initdata);
    const sha = execFileSync("openssl", ["dgst", "-sha256", "-r"], { input: toml }).toString().split(" ")[0];
    expect(w?.policyHash).toBe(sha);
    expect(initdataPolicy(parseInitdata(toml))).toBe(w?.policy);
    // The same policy text as the agent-policy format: only the envelope differs.
    const plain = await generatePolicies(POD, { images, annotation: "agent-policy" });
    expect(plain.workloads[0]?.policy).toBe(w?.policy);
    expect(plain.workloads[0]?.policyHash).not.toBe(w?.policyHash);
  });

  it("follows the profile's format unless told otherwise", async () => {
    const images = fixtureImages();
    const base = policyProfile("metal-qemu-snp");
    const newer = { ...base, annotation: "initdata" as const };
    expect((await generatePolicies(POD, { images, profile: newer })).workloads[0]?.annotation).toBe("initdata");
    expect((await generatePolicies(POD, { images, profile: base })).workloads[0]?.annotation).toBe(base.annotation);
    const forced = await generatePolicies(POD, { images, profile: newer, annotation: "agent-policy" });
    expect(forced.workloads[0]?.annotation).toBe("agent-policy");
  });

  it("replaces a policy of the other format left by an earlier run, in both directions", async () => {
    const images = fixtureImages();
    const first = await generatePolicies(DEPLOYMENT, { images, annotation: "agent-policy" });
    const second = await generatePolicies(first.yaml, { images, annotation: "initdata" });
    const meta = (y: string) =>
      (load(y.replace(/^---\n/, "")) as { spec: { template: Annotated } }).spec.template.metadata.annotations;
    expect(Object.keys(meta(second.yaml))).toEqual([INITDATA_ANNOTATION]);
    const third = await generatePolicies(second.yaml, { images, annotation: "agent-policy" });
    expect(Object.keys(meta(third.yaml))).toEqual([POLICY_ANNOTATION]);
    expect(third.workloads[0]?.policyHash).toBe(first.workloads[0]?.policyHash);
  });

  it("gives a policy that the honest requests pass and a tampered request fails, read back from the YAML", async () => {
    const images = fixtureImages();
    const r = await generatePolicies(POD, { images, annotation: "initdata" });
    const found = selectAnnotatedPolicy(r.yaml, "pod.yaml");
    expect(found.annotation).toBe("initdata");
    expect(found.policy).toBe(r.workloads[0]?.policy);
    const [built] = await honestRequestsForYaml(POD, { images });
    const requests = built?.stream.requests ?? [];
    const agent = new AgentPolicy(found.policy);
    expect(agent.decideAll(requests).filter((d) => !d.allowed)).toEqual([]);
    // The same stream with the container's command changed, as a host that swaps the workload would.
    const tampered = structuredClone(requests);
    const create = tampered.filter((q) => q.name === "CreateContainerRequest")[1];
    if (create === undefined) throw new Error("no workload container in the stream");
    const process = (create.input as { OCI: { Process: { Args: string[] } } }).OCI.Process;
    process.Args = ["/bin/sh", "-c", "cat /secrets"];
    const denied = new AgentPolicy(found.policy).decideAll(tampered).filter((d) => !d.allowed);
    expect(denied.map((d) => d.request)).toEqual(["CreateContainerRequest"]);
  });
});

describe("annotatedPolicies with initdata", () => {
  const pod = (name: string, annotations: Record<string, string>) =>
    `kind: Pod\nmetadata: {name: ${name}, annotations: ${JSON.stringify(annotations)}}\nspec: {}`;

  it("reads both formats, says which one carried the policy, and refuses a workload with both", () => {
    const doc = policyInitdata("package agent_policy\n# p2\n");
    const yaml = [
      pod("p1", { [POLICY_ANNOTATION]: encodePolicyAnnotation("package agent_policy\n# p1\n") }),
      pod("p2", { [INITDATA_ANNOTATION]: encodeInitdataAnnotation(doc.bytes) }),
    ].join("\n---\n");
    const found = annotatedPolicies(yaml, "app.yaml");
    expect(found.map((f) => [f.workload, f.annotation, f.policy.split("\n")[1]])).toEqual([
      ["Pod/p1", "agent-policy", "# p1"],
      ["Pod/p2", "initdata", "# p2"],
    ]);
    expect(found[1]?.initdata?.toml).toBe(doc.toml);
    const both = pod("p3", {
      [POLICY_ANNOTATION]: encodePolicyAnnotation("package agent_policy\n"),
      [INITDATA_ANNOTATION]: encodeInitdataAnnotation(doc.bytes),
    });
    expect(() => annotatedPolicies(both, "both.yaml")).toThrow(
      expect.objectContaining({ code: "POLICY_ANNOTATION_CONFLICT", message: expect.stringContaining("Pod/p3") }),
    );
  });

  it("names the workload of a garbled initdata annotation, with the initdata error's code", () => {
    const cases: [string, string][] = [
      ["%%%", "POLICY_INITDATA_ENCODING"],
      [Buffer.from("package agent_policy").toString("base64"), "POLICY_INITDATA_ENCODING"],
      [encodeInitdataAnnotation("version = '0.1.0'\nalgorithm = 'sha256'\n[data]\n"), "POLICY_INITDATA_NO_POLICY"],
      [encodeInitdataAnnotation("version = '9'\nalgorithm = 'sha256'\n[data]\n"), "POLICY_INITDATA_VERSION"],
    ];
    for (const [value, code] of cases) {
      try {
        annotatedPolicies(pod("bad", { [INITDATA_ANNOTATION]: value }), "bad.yaml");
        expect.unreachable(code);
      } catch (e) {
        expect(e).toBeInstanceOf(PolicyError);
        expect((e as PolicyError).code).toBe(code);
        expect((e as PolicyError).message).toContain("bad.yaml: Pod/bad");
      }
    }
  });
});
