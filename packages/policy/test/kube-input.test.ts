import { KubeError, parseYamlDocuments as kubeParse, podTemplates as kubeTemplates } from "@contrast/kube";
import { describe, expect, it } from "vitest";
import { PolicyError } from "../src/errors.js";
import { parseYamlDocuments, podTemplates } from "../src/kube-input.js";

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe("policy's reading of Kubernetes YAML", () => {
  it("reports kube's KUBE_YAML_INVALID as POLICY_YAML_INVALID, with the same message and hint", () => {
    const text = "---\na: 1\n---\nb: [1,\n";
    const kube = thrown(() => kubeParse(text, "app.yaml")) as KubeError;
    const policy = thrown(() => parseYamlDocuments(text, "app.yaml")) as PolicyError;
    expect(kube).toBeInstanceOf(KubeError);
    expect(kube.code).toBe("KUBE_YAML_INVALID");
    expect(policy).toBeInstanceOf(PolicyError);
    expect(policy.code).toBe("POLICY_YAML_INVALID");
    expect(policy.kind).toBe("input");
    expect([policy.message, policy.hint]).toEqual([kube.message, kube.hint]);
    // The cause is js-yaml's exception, as before the YAML code moved to kube.
    expect((policy.cause as Error).name).toBe("YAMLException");
    expect((policy.cause as Error).message).toBe((kube.cause as Error).message);
  });

  it("reports KUBE_OBJECT_INVALID as POLICY_OBJECT_INVALID, with the path", () => {
    const doc = { kind: "Deployment", metadata: { name: "d" }, spec: {} };
    const kube = thrown(() => kubeTemplates(doc)) as KubeError;
    const policy = thrown(() => podTemplates(doc)) as PolicyError;
    expect(kube.code).toBe("KUBE_OBJECT_INVALID");
    expect(policy.code).toBe("POLICY_OBJECT_INVALID");
    expect(policy.path).toBe("spec.template");
    expect(policy.details).toEqual({ path: "spec.template" });
    expect([policy.message, policy.hint]).toEqual([kube.message, kube.hint]);
  });

  it("returns what kube returns when the input is good", () => {
    const text = "---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: []}\n";
    expect(parseYamlDocuments(text)).toEqual(kubeParse(text));
    const value = parseYamlDocuments(text)[0]?.value;
    expect(podTemplates(value).map((t) => t.specPath)).toEqual(["spec"]);
  });
});
