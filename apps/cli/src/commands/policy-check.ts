import { ContrastError, fromBase64, fromUtf8, type JsonValue, parseJson } from "@contrast/core";
import { type AgentRequest, Policy, parseRequestStream } from "@contrast/rego";
import { loadAll } from "js-yaml";
import { type Context, resolvePath } from "../context.js";
import { readBounded } from "../files.js";

export interface PolicyCheckOptions {
  readonly kind?: string;
  readonly requests?: string;
  /** Print lines of the policy to show for a denial. */
  readonly trace?: string;
}

/** The annotation that carries a Kata agent policy (base64 of the Rego text). */
export const POLICY_ANNOTATION = "io.katacontainers.config.agent.policy";
const POLICY_MAX_BYTES = 16 * 1024 * 1024;
const REQUEST_MAX_BYTES = 64 * 1024 * 1024;
const PACKAGE = "agent_policy";

interface Decision {
  readonly index: number;
  readonly kind: string;
  readonly allowed: boolean;
  readonly rule: string;
  /** For a denial: the policy's last print lines, which name the values that failed. */
  readonly trace?: readonly string[];
}

/**
 * Evaluates Kata agent requests against a policy as the agent does (non-strict built-in errors)
 * and prints allowed/denied. Exit status 0 when every request is allowed, 1 when one is denied,
 * 2 when the policy or a request cannot be read or evaluated.
 */
export async function policyCheck(
  ctx: Context,
  policyFile: string,
  requestFile: string | undefined,
  opts: PolicyCheckOptions,
): Promise<number> {
  const { out } = ctx;
  try {
    const policyPath = resolvePath(ctx, policyFile, policyFile);
    const source = regoSource(fromUtf8(await readBounded(policyPath, POLICY_MAX_BYTES, "policy")), policyPath);
    const policy = Policy.compile({ file: "policy.rego", source: source });
    const traceLines = opts.trace === undefined ? 8 : Number(opts.trace);
    let requests: AgentRequest[];
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
    const decisions = requests.map((r, index) => decide(policy, r, index, traceLines));
    const denied = decisions.filter((d) => !d.allowed).length;
    if (out.json) {
      out.result({ ok: denied === 0, allowed: decisions.length - denied, denied, decisions });
      return denied === 0 ? 0 : 1;
    }
    for (const d of decisions) {
      const label = decisions.length > 1 ? `${String(d.index + 1).padStart(4)} ${d.kind}: ` : `${d.kind}: `;
      if (d.allowed) out.info(`${label}${out.style("green", "allowed")}`);
      else {
        out.problem(`${label}${out.style("red", "denied")} by ${d.rule}`);
        for (const line of d.trace ?? []) out.info(`  ${out.style("dim", line)}`);
      }
    }
    if (decisions.length > 1) out.info(`${decisions.length - denied} allowed, ${denied} denied`);
    return denied === 0 ? 0 : 1;
  } catch (e) {
    out.error(ContrastError.from(e));
    return 2;
  }
}

function decide(policy: Policy, r: AgentRequest, index: number, traceLines: number): Decision {
  const rule = `data.${PACKAGE}.${r.name}`;
  const prints: string[] = [];
  const v = policy.evalRule(rule, { input: r.input as JsonValue, strict: false, print: (l) => prints.push(l) });
  // The agent allows a request only when its rule is exactly true.
  const allowed = v === true;
  if (allowed) return { index, kind: r.name, allowed, rule };
  return { index, kind: r.name, allowed, rule, trace: traceLines > 0 ? prints.slice(-traceLines) : [] };
}

/**
 * Accepts the policy as Rego text, as the base64 annotation value, or as Kubernetes YAML whose
 * (pod or pod template) annotations carry it.
 */
export function regoSource(text: string, path: string): string {
  const trimmed = text.trim();
  if (/^(#.*\n\s*)*package\s/.test(trimmed) || path.endsWith(".rego")) return text;
  if (/\.(ya?ml)$/i.test(path) || trimmed.includes(POLICY_ANNOTATION)) return fromYaml(text, path);
  if (/^[A-Za-z0-9+/=\s]+$/.test(trimmed)) return decodeAnnotation(trimmed.replace(/\s+/g, ""), path);
  throw new ContrastError("POLICY_UNRECOGNISED", `${path}: neither Rego, a base64 policy nor YAML with a policy`, {
    hint: `Pass a .rego file, the value of the ${POLICY_ANNOTATION} annotation, or a YAML file that carries it.`,
  });
}

function fromYaml(text: string, path: string): string {
  let docs: unknown[];
  try {
    docs = loadAll(text);
  } catch (e) {
    throw new ContrastError("POLICY_YAML_INVALID", `${path}: ${(e as Error).message.split("\n")[0]}`, {
      hint: "Check the YAML syntax of the file.",
    });
  }
  for (const doc of docs) {
    const value = findAnnotation(doc, 0);
    if (value !== undefined) return decodeAnnotation(value, path);
  }
  throw new ContrastError("POLICY_ANNOTATION_MISSING", `${path}: no ${POLICY_ANNOTATION} annotation found`, {
    hint: "Run `contrast generate` first, or pass the .rego file itself.",
  });
}

/** The annotation in metadata.annotations of an object or of its (nested) pod template. */
function findAnnotation(v: unknown, depth: number): string | undefined {
  if (depth > 8 || v === null || typeof v !== "object") return undefined;
  const o = v as Record<string, unknown>;
  const meta = o.metadata as Record<string, unknown> | undefined;
  const ann = meta?.annotations as Record<string, unknown> | undefined;
  const value = ann !== undefined && Object.hasOwn(ann, POLICY_ANNOTATION) ? ann[POLICY_ANNOTATION] : undefined;
  if (typeof value === "string") return value;
  for (const key of ["spec", "template", "jobTemplate"]) {
    if (Object.hasOwn(o, key)) {
      const found = findAnnotation(o[key], depth + 1);
      if (found !== undefined) return found;
    }
  }
  return undefined;
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
