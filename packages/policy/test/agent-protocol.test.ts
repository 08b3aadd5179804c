import type { JsonValue } from "@contrast/core";
import { fuzzRuns } from "@contrast/testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AgentPolicy,
  DEFAULT_SETTINGS,
  explainDenial,
  formatRequestStream,
  generatePolicies,
  honestRequestsForYaml,
  parseRequestStream,
} from "../src/index.js";
import { fixtureImages } from "./fixtures/images.js";

const FUZZ_RUNS = fuzzRuns(200);

/** A policy whose answer to `Ask` is whatever the request carries in `answer`. */
const ECHO = `package agent_policy
import future.keywords.if
default AllowRequestsFailingPolicy := false
Ask := input.answer
Count := {"allowed": true, "ops": [{"op": "add", "path": "/pstate/n", "value": n}]} if {
  n := object.get(data.pstate, "n", 0) + 1
}
Seen := data.pstate.n
`;

describe("AgentPolicy: the agent's decision protocol", () => {
  it("takes true and {allowed: true} as allowed, and everything else as denied", () => {
    const a = new AgentPolicy(ECHO);
    const ask = (answer: JsonValue | undefined) => a.decide("Ask", answer === undefined ? {} : { answer });
    expect(ask(true)).toMatchObject({ allowed: true, outcome: "allowed" });
    expect(ask(false)).toMatchObject({ allowed: false, outcome: "denied" });
    expect(ask({ allowed: true })).toMatchObject({ allowed: true, outcome: "allowed", ops: [] });
    expect(ask({ allowed: true, ops: null })).toMatchObject({ allowed: true, outcome: "allowed" });
    expect(ask({ allowed: false, ops: [] })).toMatchObject({ allowed: false, outcome: "denied" });
    expect(ask(undefined)).toMatchObject({ allowed: false, outcome: "undefined" });
    for (const v of [1, "true", [true], null, { allowed: "true" }, { ops: [] }]) {
      expect(ask(v as JsonValue)).toMatchObject({ allowed: false, outcome: "invalid-answer" });
    }
    // An ops value that is not a JSON patch is an error, even in a denial.
    expect(ask({ allowed: true, ops: [{ op: "jump", path: "/x" }] })).toMatchObject({
      allowed: false,
      outcome: "invalid-answer",
    });
    expect(a.decide("NoSuchRequest", {})).toMatchObject({ allowed: false, outcome: "undefined" });
    expect(a.decide("NoSuchRequest", {}).reasons?.[0]?.message).toBe(
      "the policy has no rule for NoSuchRequest: requests without one are denied",
    );
  });

  it("applies ops to the state in order, carries it through a stream, and starts afresh per sandbox", () => {
    const a = new AgentPolicy(ECHO);
    expect(a.decide("Seen", {}).outcome).toBe("undefined");
    a.decide("Count", {});
    a.decide("Count", {});
    expect(a.state).toEqual({ pstate: { n: 2 } });
    expect(a.decide("Seen", {}).value).toBe(2);
    // Ops apply in order and atomically: a failing op leaves the state as it was, and denies.
    const bad = a.decide("Ask", {
      answer: {
        allowed: true,
        ops: [
          { op: "add", path: "/pstate/x", value: 1 },
          { op: "remove", path: "/pstate/missing" },
        ],
      },
    });
    expect(bad).toMatchObject({ allowed: false, outcome: "state-error" });
    expect(a.state).toEqual({ pstate: { n: 2 } });
    const good = a.decide("Ask", {
      answer: {
        allowed: true,
        ops: [
          { op: "add", path: "/pstate/x", value: 1 },
          { op: "replace", path: "/pstate/x", value: 2 },
        ],
      },
    });
    expect(good.allowed).toBe(true);
    expect(a.state).toEqual({ pstate: { n: 2, x: 2 } });
    // A denied object answer applies nothing.
    a.decide("Ask", { answer: { allowed: false, ops: [{ op: "add", path: "/pstate/y", value: 1 }] } });
    expect(a.state.pstate).not.toHaveProperty("y");
    // A new sandbox: a fresh state.
    expect(a.decide("CreateSandboxRequest", {})).toMatchObject({ newSandbox: true });
    expect(a.state).toEqual({ pstate: {} });
  });

  it("ignores denials when the policy sets AllowRequestsFailingPolicy, but not internal errors", () => {
    const a = new AgentPolicy(
      ECHO.replace("default AllowRequestsFailingPolicy := false", "default AllowRequestsFailingPolicy := true"),
    );
    expect(a.allowsFailures).toBe(true);
    expect(a.decide("Ask", { answer: false })).toMatchObject({ allowed: true, bypassed: true });
    expect(a.decide("NoSuchRequest", {})).toMatchObject({ allowed: true, bypassed: true });
    expect(a.decide("Ask", { answer: 7 })).toMatchObject({ allowed: false, outcome: "invalid-answer" });
    expect(a.decide("Ask", { answer: true })).toMatchObject({ allowed: true, bypassed: false });
  });

  it("replaces the policy on an allowed SetPolicyRequest, with a fresh state", () => {
    const a = new AgentPolicy(`${ECHO}\nSetPolicyRequest := true\n`);
    a.decide("Count", {});
    const d = a.decide("SetPolicyRequest", { policy: "package agent_policy\nAsk := false\n" });
    expect(d.allowed).toBe(true);
    expect(a.state).toEqual({ pstate: {} });
    expect(a.decide("Ask", { answer: true }).allowed).toBe(false);
    expect(a.decide("Count", {}).outcome).toBe("undefined");
  });

  it("never throws on random answers and ops, and keeps the state an object (property)", () => {
    const pointer = fc
      .array(fc.constantFrom("pstate", "n", "x", "0", "-", "~1", "", "a/b"), { maxLength: 4 })
      .map((t) => (t.length === 0 ? "" : `/${t.join("/")}`));
    const op = fc.record(
      {
        op: fc.constantFrom("add", "remove", "replace", "move", "copy", "test", "nope"),
        path: fc.oneof(pointer, fc.string()),
        from: pointer,
        value: fc.jsonValue({ maxDepth: 2 }),
      },
      { requiredKeys: [] },
    );
    const answer = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.record(
        {
          allowed: fc.oneof(fc.boolean(), fc.jsonValue({ maxDepth: 1 })),
          ops: fc.oneof(fc.array(op, { maxLength: 6 }), fc.jsonValue({ maxDepth: 2 })),
        },
        { requiredKeys: [] },
      ),
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(answer, fc.constant(undefined)), { maxLength: 8 }), (answers) => {
        const a = new AgentPolicy(ECHO);
        for (const v of answers) {
          const before = a.state;
          const d = a.decide("Ask", (v === undefined ? {} : { answer: v }) as JsonValue);
          expect(typeof d.allowed).toBe("boolean");
          const s = a.state as unknown;
          expect(s !== null && typeof s === "object" && !Array.isArray(s)).toBe(true);
          if (!d.allowed) expect(a.state).toEqual(before);
          else
            expect(d.allowed).toBe(
              v === true || (typeof v === "object" && v !== null && (v as { allowed?: unknown }).allowed === true),
            );
        }
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});

describe("AgentPolicy on a generated policy", () => {
  const POD = `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  runtimeClassName: contrast-cc
  containers:
    - name: app
      image: registry.k8s.io/pause:3.6@sha256:3d380ca8864549e74af4b29c10f9cb0956236dfb01c40ca076fb6c37253234db
      readinessProbe: {exec: {command: ["/pause", "--ready"]}}
`;

  it("writes and reads back the honest stream in the regorus format", async () => {
    const images = fixtureImages();
    const [built] = await honestRequestsForYaml(POD, { images });
    const stream = built?.stream.requests ?? [];
    const parsed = parseRequestStream(formatRequestStream(stream));
    expect(parsed.map((r) => ({ name: r.name, input: r.input }))).toEqual(stream);
    expect(parsed.map((r) => r.line)).toEqual(stream.map((_, i) => 1 + 2 * i));
  });

  it("never throws when random fields of honest requests are changed, and explains every denial (property)", async () => {
    const images = fixtureImages();
    const [w] = (await generatePolicies(POD, { images, settings: DEFAULT_SETTINGS })).workloads;
    const [built] = await honestRequestsForYaml(POD, { images });
    const requests = built?.stream.requests ?? [];
    const policy = new AgentPolicy(w?.policy ?? "");
    const data = policy.policyData();
    // biome-ignore lint/suspicious/noExplicitAny: a mutation walks any JSON
    const mutate = (value: any, path: number[], replacement: JsonValue, drop: boolean): JsonValue => {
      if (path.length === 0 || value === null || typeof value !== "object") return replacement;
      const keys = Object.keys(value);
      if (keys.length === 0) return replacement;
      const key = keys[(path[0] as number) % keys.length] as string;
      const copy = Array.isArray(value) ? [...value] : { ...value };
      if (drop && path.length === 1) {
        if (Array.isArray(copy)) copy.splice(Number(key), 1);
        else delete copy[key];
        return copy;
      }
      copy[key] = mutate(value[key], path.slice(1), replacement, drop);
      return copy;
    };
    fc.assert(
      fc.property(
        fc.nat({ max: requests.length - 1 }),
        fc.array(fc.nat({ max: 40 }), { minLength: 1, maxLength: 6 }),
        fc.jsonValue({ maxDepth: 2 }),
        fc.boolean(),
        (index, path, replacement, drop) => {
          const agent = new AgentPolicy(w?.policy ?? "");
          const stream = requests.map((r, i) =>
            i === index ? { ...r, input: mutate(r.input, path, replacement as JsonValue, drop) } : r,
          );
          for (const r of stream) {
            const d = agent.decide(r.name, r.input);
            if (!d.allowed) expect(d.reasons?.length ?? 0).toBeGreaterThan(0);
            expect(explainDenial(data, r.name, r.input, agent.state).length).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
  }, 120_000);
});
