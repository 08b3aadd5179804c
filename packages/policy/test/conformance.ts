import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { Policy } from "@contrast/rego";
import { applyJsonPatch, generatePolicies, loadSettings, type SettingsDropIn } from "../src/index.js";
import { fixtureImages } from "./fixtures/images.js";
import { normalizeRequest } from "./fixtures/requests.js";

export const TESTDATA = new URL("../../../testdata/genpolicy/", import.meta.url).pathname;
export const CASES = join(TESTDATA, "kata-tests");

export interface CaseResult {
  readonly case: string;
  readonly index: number;
  readonly kind: string;
  readonly description: string;
  readonly expected: boolean;
  readonly actual: boolean;
  /** The last policy print lines of a denial, to see which check failed. */
  readonly trace: readonly string[];
}

/** Every directory below kata-tests/ that holds a testcases.json. */
export function caseDirs(dir = CASES): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (!statSync(path).isDirectory()) continue;
    if (readdirSync(path).includes("testcases.json")) out.push(path);
    out.push(...caseDirs(path));
  }
  return out;
}

/** The agent's decision: `true`, or an object whose `allowed` is true (then its ops apply). */
function decision(v: unknown): { allowed: boolean; ops: unknown[] } {
  if (v === true) return { allowed: true, ops: [] };
  if (v !== null && typeof v === "object" && !Array.isArray(v) && (v as Record<string, unknown>).allowed === true) {
    const ops = (v as Record<string, unknown>).ops;
    return { allowed: true, ops: Array.isArray(ops) ? ops : [] };
  }
  return { allowed: false, ops: [] };
}

/**
 * Generates the policy for a case's pod.yaml (with the case's settings drop-ins and config maps),
 * then evaluates its requests in order as the agent would, carrying the agent state between them.
 */
export async function runCase(dir: string, rules?: string): Promise<CaseResult[]> {
  const name = relative(CASES, dir);
  const read = (f: string) => readFileSync(join(dir, f), "utf8");
  const files = readdirSync(dir);
  const dropInDir = join(dir, "genpolicy-settings.d");
  const dropIns: SettingsDropIn[] = files.includes("genpolicy-settings.d")
    ? readdirSync(dropInDir).map((f) => ({ name: f, text: readFileSync(join(dropInDir, f), "utf8") }))
    : [];
  const settings = loadSettings(readFileSync(join(TESTDATA, "genpolicy-settings.json"), "utf8"), dropIns);
  const configFiles = files.filter((f) => f !== "pod.yaml" && /\.ya?ml$/.test(f)).map(read);
  const generated = await generatePolicies(read("pod.yaml"), {
    images: fixtureImages(),
    settings,
    ...(rules === undefined ? {} : { rules }),
    runtimeClassPrefixes: [],
    configFiles,
    source: `${name}/pod.yaml`,
  });
  const workload = generated.workloads[0];
  if (generated.workloads.length !== 1 || workload === undefined) {
    throw new Error(`${name}: expected one workload, got ${generated.workloads.length}`);
  }
  const policy = Policy.compile({ file: "policy.rego", source: workload.policy });
  const cases = JSON.parse(read("testcases.json")) as {
    kind: string;
    request: unknown;
    allowed: boolean;
    description: string;
  }[];
  let state: { pstate: Record<string, unknown> } = { pstate: {} };
  return cases.map((c, index) => {
    const prints: string[] = [];
    const input = normalizeRequest(c.kind, c.request);
    const v = policy.evalRule(`data.agent_policy.${c.kind}`, {
      input,
      data: state,
      strict: false,
      print: (l) => prints.push(l),
    });
    const d = decision(v);
    if (d.allowed && d.ops.length > 0) state = applyJsonPatch(state, d.ops as never, `${name}#${index} ops`);
    return {
      case: name,
      index,
      kind: c.kind,
      description: c.description,
      expected: c.allowed,
      actual: d.allowed,
      trace: prints.slice(-6),
    };
  });
}
