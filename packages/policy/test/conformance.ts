import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import type { JsonValue } from "@contrast/core";
import { testdataPath } from "@contrast/testkit";
import {
  AgentPolicy,
  generatePolicies,
  loadSettings,
  type Settings,
  settingsToJson,
  withProtobufDefaults,
} from "../src/index.js";
import type { SettingsDropIn } from "../src/settings/load.js";
import { fixtureImages } from "./fixtures/images.js";

export const TESTDATA = `${testdataPath("genpolicy")}/`;
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
  /** explainDenial's reasons for a denial. */
  readonly reasons: readonly string[];
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

/** A case's inputs as `policy generate` would get them: pod.yaml, settings with drop-ins, config files. */
export function caseInputs(dir: string, base?: Settings) {
  const name = relative(CASES, dir);
  const read = (f: string) => readFileSync(join(dir, f), "utf8");
  const files = readdirSync(dir);
  const dropInDir = join(dir, "genpolicy-settings.d");
  const dropIns: SettingsDropIn[] = files.includes("genpolicy-settings.d")
    ? readdirSync(dropInDir).map((f) => ({ name: f, text: readFileSync(join(dropInDir, f), "utf8") }))
    : [];
  const settings = loadSettings(
    base === undefined ? readFileSync(join(TESTDATA, "genpolicy-settings.json"), "utf8") : settingsToJson(base),
    dropIns,
  );
  const configFiles = files.filter((f) => f !== "pod.yaml" && /\.ya?ml$/.test(f)).map(read);
  return { name, read, files, dropIns, settings, configFiles, pod: read("pod.yaml") };
}

/**
 * Generates the policy for a case's pod.yaml (with the case's settings drop-ins and config maps),
 * then evaluates its requests in order as the agent would, carrying the agent state between them.
 */
export async function runCase(dir: string, rules?: string, base?: Settings): Promise<CaseResult[]> {
  const { name, read, settings, configFiles, pod } = caseInputs(dir, base);
  const generated = await generatePolicies(pod, {
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
  const agent = new AgentPolicy(workload.policy);
  const cases = JSON.parse(read("testcases.json")) as {
    kind: string;
    request: unknown;
    allowed: boolean;
    description: string;
  }[];
  return cases.map((c, index) => {
    const d = agent.decide(c.kind, withProtobufDefaults(c.kind, c.request) as JsonValue);
    return {
      case: name,
      index,
      kind: c.kind,
      description: c.description,
      expected: c.allowed,
      actual: d.allowed,
      trace: d.prints.slice(-6),
      reasons: (d.reasons ?? []).map((r) => r.message),
    };
  });
}
