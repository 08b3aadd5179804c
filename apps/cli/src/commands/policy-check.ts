import { ContrastError, fromBase64, fromUtf8, type JsonValue, parseJson } from "@contrast/core";
import {
  type AgentDecision,
  AgentPolicy,
  type AgentRequest,
  type DenialReason,
  decodeInitdataAnnotation,
  INITDATA_ANNOTATION,
  initdataPolicy,
  POLICY_ANNOTATION,
  parseInitdata,
  parseRequestStream,
  policyProfile,
  profileDialect,
  type StreamRequest,
  selectAnnotatedPolicy,
} from "@contrast/policy";
import { checkDialect, Policy, type RegoDialect } from "@contrast/rego";
import type { Outcome } from "../command-spec.js";
import { type Context, resolvePath } from "../context.js";
import { readBounded } from "../files.js";
import { type HonestOptions, honestStreams } from "./policy-requests.js";

export interface PolicyCheckOptions extends HonestOptions {
  readonly kind?: string;
  readonly requests?: string;
  /** Print lines of the policy to show for a denial (with --log-level debug). */
  readonly trace?: string;
  /** Build the honest requests of each workload of the YAML and check them with its policy. */
  readonly honest?: boolean;
}

const POLICY_MAX_BYTES = 16 * 1024 * 1024;
const REQUEST_MAX_BYTES = 64 * 1024 * 1024;

interface Decision {
  readonly index: number;
  /** Line of the request in the stream, when it came from one. */
  readonly line?: number;
  readonly kind: string;
  readonly allowed: boolean;
  /** How the agent decided (docs/agent-protocol.md): allowed, denied, undefined, ... */
  readonly outcome: AgentDecision["outcome"];
  /** Allowed only because the policy sets AllowRequestsFailingPolicy. */
  readonly bypassed: boolean;
  readonly rule: string;
  /** For a denial: which container, which field, what the policy expected and what the request had. */
  readonly reasons?: readonly DenialReason[];
  /** For a denial: the policy's last print lines. */
  readonly trace?: readonly string[];
}

interface Checked {
  readonly workload?: string;
  readonly decisions: readonly Decision[];
}

/**
 * Evaluates Kata agent requests against a policy as the agent does (AgentPolicy: boolean or
 * {allowed, ops} answers, the state carried through the stream) and prints allowed/denied with
 * the reasons of each denial. A denial is a negative verdict (exit 2); a policy or request that
 * cannot be read is thrown (exit 1).
 */
export async function policyCheck(
  ctx: Context,
  policyFile: string,
  requestFile: string | undefined,
  opts: PolicyCheckOptions,
): Promise<Outcome> {
  const { out } = ctx;
  // The agent of the platform's runtime evaluates with regorus 0.2.8: say what it would lack,
  // and with an explicit --platform decide as it would (a call it lacks fails the request).
  const dialect = profileDialect(policyProfile(opts.platform));
  const emulate = opts.platform === undefined ? {} : { emulate: dialect };
  const lacking: DialectProblem[] = [];
  const compile = (source: string, file: string, workload?: string): AgentPolicy => {
    const policy = Policy.compile({ file, source }, emulate);
    lacking.push(...dialectProblems(ctx, policy, dialect, workload));
    return new AgentPolicy(policy, { file });
  };
  const traceLines = opts.trace === undefined ? 8 : Number(opts.trace);
  if (!Number.isInteger(traceLines) || traceLines < 0)
    throw usage(`--trace ${JSON.stringify(opts.trace)} is not a count`);
  const checked: Checked[] = [];
  if (opts.honest === true) {
    if (requestFile !== undefined || opts.kind !== undefined || opts.requests !== undefined) {
      throw usage("--honest builds the requests itself: pass only the YAML file");
    }
    for (const w of await honestStreams(ctx, policyFile, opts)) {
      // Workloads without a policy (not confidential) never meet an agent policy.
      if (w.policy === undefined) {
        ctx.log.info("no policy annotation; skipped", { workload: w.workload });
        continue;
      }
      const agent = compile(w.policy, "policy.rego", w.workload);
      checked.push({ workload: w.workload, decisions: run(agent, w.stream.requests, traceLines) });
    }
    if (checked.length === 0) {
      throw new ContrastError(
        "POLICY_ANNOTATION_MISSING",
        `${policyFile}: no workload has a ${POLICY_ANNOTATION} or ${INITDATA_ANNOTATION} annotation`,
        {
          hint: "Run `contrast policy generate` on the file first.",
        },
      );
    }
  } else {
    const policyPath = resolvePath(ctx, policyFile, policyFile);
    const source = regoSource(await readBounded(policyPath, POLICY_MAX_BYTES, "policy"), policyPath, opts.workload);
    const agent = compile(source, "policy.rego");
    let requests: (StreamRequest | AgentRequest)[];
    if (opts.requests !== undefined) {
      if (requestFile !== undefined || opts.kind !== undefined) {
        throw usage("pass either --requests <file> or a request file with --kind, not both");
      }
      const path = resolvePath(ctx, opts.requests, opts.requests);
      requests = parseRequestStream(fromUtf8(await readBounded(path, REQUEST_MAX_BYTES, "request stream")), path);
    } else {
      if (requestFile === undefined || opts.kind === undefined) {
        throw usage("pass a request file and its --kind (e.g. CreateContainerRequest), or --requests <file>");
      }
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(opts.kind))
        throw usage(`--kind ${JSON.stringify(opts.kind)} is not a request name`);
      const path = resolvePath(ctx, requestFile, requestFile);
      const input = parseJson(await readBounded(path, REQUEST_MAX_BYTES, "request"), { source: path });
      requests = [{ name: opts.kind, input, line: 1 }];
    }
    if (agent.allowsFailures) {
      out.warn(
        "the policy sets AllowRequestsFailingPolicy: the agent ignores every denial (a debug switch)",
        "CLI_POLICY_ALLOWS_FAILURES",
      );
    }
    checked.push({ decisions: run(agent, requests, traceLines) });
  }
  return report(ctx, checked, lacking.length === 0 ? undefined : { dialect: dialect.id, findings: lacking });
}

/**
 * A warning per built-in or keyword the platform agent's regorus lacks: the agent fails on such
 * a call (the request is denied) where our engine answers. Not an error: the check still shows
 * what our engine decides, and a policy may target another agent.
 */
function dialectProblems(ctx: Context, policy: Policy, dialect: RegoDialect, workload?: string): DialectProblem[] {
  return checkDialect(policy.modules, dialect).map((f) => {
    const where = `${workload === undefined ? "" : `${workload}: `}${f.location.file}:${f.location.line}:${f.location.column}`;
    ctx.out.warn(`${where}: ${f.message}; the agent denies requests that reach it`, f.code, {
      ...(workload === undefined ? {} : { workload }),
      file: f.location.file,
      line: f.location.line,
      column: f.location.column,
    });
    return {
      ...(workload === undefined ? {} : { workload }),
      code: f.code,
      name: f.name,
      message: f.message,
      file: f.location.file,
      line: f.location.line,
      column: f.location.column,
    };
  });
}

/** A dialect finding as the JSON output lists it. */
interface DialectProblem {
  readonly workload?: string;
  readonly code: string;
  readonly name: string;
  readonly message: string;
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/**
 * Requests are evaluated as given: a recorded stream already has every field its agent version
 * sends, and filling in today's protobuf defaults would change what older rules see.
 */
function run(agent: AgentPolicy, requests: readonly (StreamRequest | AgentRequest)[], traceLines: number): Decision[] {
  return requests.map((r, index) => {
    const d = agent.decide(r.name, r.input as JsonValue);
    const line = "line" in r ? r.line : undefined;
    return {
      index,
      ...(line === undefined ? {} : { line }),
      kind: r.name,
      allowed: d.allowed,
      outcome: d.outcome,
      bypassed: d.bypassed,
      rule: `data.agent_policy.${r.name}`,
      ...(d.allowed && !d.bypassed
        ? {}
        : { reasons: d.reasons ?? [], trace: traceLines > 0 ? d.prints.slice(-traceLines) : [] }),
    };
  });
}

function report(
  ctx: Context,
  checked: readonly Checked[],
  dialect: { dialect: string; findings: readonly DialectProblem[] } | undefined,
): Outcome {
  const { out } = ctx;
  const all = checked.flatMap((c) => c.decisions);
  const denied = all.filter((d) => !d.allowed).length;
  const summary = { allowed: all.length - denied, denied, ...(dialect === undefined ? {} : { dialect }) };
  const outcome: Outcome = {
    ok: denied === 0,
    fields:
      checked.length === 1 && checked[0]?.workload === undefined
        ? { ...summary, decisions: all }
        : { ...summary, workloads: checked.map((c) => ({ workload: c.workload, decisions: c.decisions })) },
  };
  if (out.json) return outcome;
  const debug = ctx.logLevel === "debug";
  for (const c of checked) {
    if (c.workload !== undefined) out.info(`${c.workload}:`);
    const many = c.decisions.length > 1;
    for (const d of c.decisions) {
      const label = many ? `${String(d.index + 1).padStart(4)} ${d.kind}: ` : `${d.kind}: `;
      if (d.allowed && !d.bypassed) out.info(`${label}${out.style("green", "allowed")}`);
      else if (d.allowed) out.warn(`${label}denied, allowed only by AllowRequestsFailingPolicy`);
      else out.problem(`${label}${out.style("red", "denied")} by ${d.rule}`);
      if (!d.allowed || d.bypassed) {
        for (const r of d.reasons ?? []) out.info(`  ${r.message}`);
        if (debug) for (const line of d.trace ?? []) out.info(`  ${out.style("dim", line)}`);
      }
    }
  }
  if (all.length > 1) out.info(`${all.length - denied} allowed, ${denied} denied`);
  return outcome;
}

/**
 * Accepts the policy as Rego text, as an annotation value (the base64 agent-policy annotation or
 * the base64 gzip initdata annotation), as an initdata TOML file (.toml), or as Kubernetes YAML
 * whose (pod or pod template) annotations carry it; in a YAML of several policies `workload` (the
 * workload's metadata.name) says which one decides.
 */
export function regoSource(bytes: Uint8Array, path: string, workload?: string): string {
  if (/\.toml$/i.test(path)) {
    if (workload !== undefined)
      throw usage("--workload selects a workload of a YAML file; the policy given is initdata");
    return initdataPolicy(parseInitdata(bytes, path), path);
  }
  const text = fromUtf8(bytes);
  const trimmed = text.trim();
  const yaml = /\.(ya?ml)$/i.test(path) || trimmed.includes(POLICY_ANNOTATION) || trimmed.includes(INITDATA_ANNOTATION);
  if (workload !== undefined && !yaml) {
    throw usage("--workload selects a workload of a YAML file; the policy given is not YAML");
  }
  if (/^(#.*\n\s*)*package\s/.test(trimmed) || path.endsWith(".rego")) return text;
  if (yaml) return selectAnnotatedPolicy(text, path, workload).policy;
  if (/^[A-Za-z0-9+/=\s]+$/.test(trimmed)) {
    const value = trimmed.replace(/\s+/g, "");
    // base64 of gzip's magic bytes 1f 8b: the initdata annotation.
    if (value.startsWith("H4s")) return initdataPolicy(decodeInitdataAnnotation(value, { source: path }), path);
    return decodeAnnotation(value, path);
  }
  throw new ContrastError("POLICY_UNRECOGNISED", `${path}: neither Rego, a base64 policy nor YAML with a policy`, {
    hint: `Pass a .rego file, the value of the ${POLICY_ANNOTATION} or ${INITDATA_ANNOTATION} annotation, an initdata .toml file, or a YAML file that carries one.`,
  });
}

function decodeAnnotation(value: string, path: string): string {
  try {
    return fromUtf8(fromBase64(value));
  } catch (e) {
    throw new ContrastError("POLICY_ANNOTATION_INVALID", `${path}: the policy annotation is not valid base64 UTF-8`, {
      cause: e,
      hint: `The ${POLICY_ANNOTATION} annotation holds the policy's Rego text in standard base64.`,
    });
  }
}

function usage(message: string): ContrastError {
  return new ContrastError("CLI_USAGE", message, { hint: "Run `contrast policy check --help` for usage." });
}
