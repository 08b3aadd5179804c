import type { JsonValue } from "@contrast/core";
import { Policy, RegoError } from "@contrast/rego";
import { PolicyError } from "../errors.js";
import { applyJsonPatch, type JsonPatchOperation, parseJsonPatch } from "../settings/json-patch.js";
import { type DenialReason, explainDenial } from "./explain.js";
import type { AgentRequest } from "./requests.js";

/** The package every Kata agent policy must use; a request's rule is `data.agent_policy.<name>`. */
export const AGENT_POLICY_PACKAGE = "agent_policy";

/**
 * How the agent reached its answer:
 * - `allowed` / `denied`: the rule answered `true`/`false`, or an object `{allowed, ops}`;
 * - `undefined`: the rule has no value for this input (no rule of that name, no default);
 * - `invalid-answer`: the value is neither a boolean nor an object the agent can read
 *   (`{"allowed": <bool>, "ops": <JSON patch or null>}`); the agent reports an internal error;
 * - `state-error`: the rule allowed the request but its `ops` do not apply to the state;
 * - `eval-error`: the evaluation failed (a conflict between rule values, a limit).
 */
export type DecisionOutcome = "allowed" | "denied" | "undefined" | "invalid-answer" | "state-error" | "eval-error";

/** One answer of the agent to one request. */
export interface AgentDecision {
  /** The request's name (its rule), e.g. "CreateContainerRequest". */
  readonly request: string;
  readonly allowed: boolean;
  readonly outcome: DecisionOutcome;
  /** True when only the policy's `AllowRequestsFailingPolicy` switch let the request through. */
  readonly bypassed: boolean;
  /** The rule's value as the engine returned it; undefined when it has none. */
  readonly value: JsonValue | undefined;
  /** State operations applied after this request (empty unless allowed with ops). */
  readonly ops: readonly JsonPatchOperation[];
  /** The policy's print lines during this evaluation, "<file>:<line>: <text>". */
  readonly prints: readonly string[];
  /** For invalid answers, state and evaluation errors: what went wrong. */
  readonly error?: string;
  /** True when this request began a new sandbox (a fresh state). */
  readonly newSandbox: boolean;
  /** For a denial: why, in the user's words (see explainDenial). */
  readonly reasons?: readonly DenialReason[];
}

/** The agent's policy state document: `data.pstate` as the rules read it. */
export type AgentState = { pstate: Record<string, JsonValue> } & Record<string, JsonValue>;

export interface AgentOptions {
  /** File name used in print lines and errors (default "policy.rego"). */
  readonly file?: string;
}

function freshState(): AgentState {
  return { pstate: {} };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * The Kata agent's policy protocol, as `kata-agent` implements it on top of regorus
 * (src/agent/policy/src/policy.rs), for one sandbox at a time:
 *
 * - every request is evaluated as the query `data.agent_policy.<RequestName>` with the request
 *   as `input`, non-strict built-in errors (a failing built-in makes its expression undefined),
 *   and the state document `{"pstate": {...}}` as `data`;
 * - a boolean answer is the decision; an object answer must read as `{allowed: bool, ops?: patch}`:
 *   when allowed, its RFC 6902 `ops` apply to the state document in order, atomically; when they
 *   do not apply the request fails (denied). Any other value (number, string, array, null) or a
 *   malformed object is an internal error: denied;
 * - no value (undefined) is denied, unless the policy's `AllowRequestsFailingPolicy` is true;
 *   with that switch a `false` answer is turned into an allow too (an internal error is not);
 * - `AllowRequestsFailingPolicy` is read once, when the policy is loaded;
 * - each sandbox starts with a fresh state: the agent runs in the sandbox's VM and lives as long
 *   as it. A stream may hold several sandboxes; a CreateSandboxRequest starts the next one;
 * - an allowed SetPolicyRequest replaces the policy by the request's `policy` text with a fresh
 *   engine and state, as the agent does.
 */
export class AgentPolicy {
  private policy: Policy;
  private data: AgentState = freshState();
  private failuresAllowed = false;
  private readonly file: string;
  private data_: { value: JsonValue | undefined } | undefined;

  constructor(policy: Policy | string, options: AgentOptions = {}) {
    this.file = options.file ?? "policy.rego";
    this.policy = typeof policy === "string" ? Policy.compile({ file: this.file, source: policy }) : policy;
    this.failuresAllowed = this.readAllowFailures();
  }

  /** The compiled policy currently in force. */
  get currentPolicy(): Policy {
    return this.policy;
  }

  /** True when the policy sets `AllowRequestsFailingPolicy`: every denial is ignored. */
  get allowsFailures(): boolean {
    return this.failuresAllowed;
  }

  /** A copy of the state document (`{"pstate": {...}}`). */
  get state(): AgentState {
    return structuredClone(this.data);
  }

  /** The policy's `policy_data` document, when it has one (genpolicy-style policies do). */
  policyData(): JsonValue | undefined {
    if (this.data_ === undefined) {
      let value: JsonValue | undefined;
      try {
        value = this.policy.evalRule(`data.${AGENT_POLICY_PACKAGE}.policy_data`, { strict: false });
      } catch {
        value = undefined;
      }
      this.data_ = { value };
    }
    return this.data_.value;
  }

  /** Forgets the state, as a new sandbox (a new VM and agent) would start. */
  reset(): void {
    this.data = freshState();
  }

  /** Decides one request; an allowed request's state operations are applied. */
  decide(name: string, input: JsonValue): AgentDecision {
    const newSandbox = name === "CreateSandboxRequest";
    if (newSandbox) this.reset();
    const before = this.data;
    let d = this.evaluate(name, input, newSandbox, name !== "AllowRequestsFailingPolicy");
    if (!d.allowed || d.bypassed) d = { ...d, reasons: this.reasonsFor(d, input, before) };
    if (d.allowed && name === "SetPolicyRequest" && isObject(input) && typeof input.policy === "string") {
      try {
        this.policy = Policy.compile({ file: this.file, source: input.policy });
      } catch (e) {
        return { ...d, allowed: false, outcome: "eval-error", error: `the new policy does not compile: ${message(e)}` };
      }
      this.data = freshState();
      this.data_ = undefined;
      this.failuresAllowed = this.readAllowFailures();
    }
    return d;
  }

  private reasonsFor(d: AgentDecision, input: JsonValue, before: AgentState): DenialReason[] {
    switch (d.outcome) {
      case "undefined":
        return [
          { field: "request", message: `the policy has no rule for ${d.request}: requests without one are denied` },
        ];
      case "invalid-answer":
      case "state-error":
      case "eval-error":
        return [{ field: "request", message: `the agent fails on ${d.request}: ${d.error ?? d.outcome}` }];
      default:
        if (d.request === "AllowRequestsFailingPolicy") return [];
        return explainDenial(this.policyData(), d.request, input, before);
    }
  }

  /** Decides a stream in order, carrying the state between requests. */
  decideAll(requests: readonly Pick<AgentRequest, "name" | "input">[]): AgentDecision[] {
    return requests.map((r) => this.decide(r.name, r.input));
  }

  private readAllowFailures(): boolean {
    return this.evaluate("AllowRequestsFailingPolicy", {}, false, false).allowed;
  }

  private evaluate(name: string, input: JsonValue, newSandbox: boolean, bypassable: boolean): AgentDecision {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new PolicyError("POLICY_REQUEST_INVALID", `${JSON.stringify(name)} is not a request name`, {
        hint: "Request names are identifiers such as CreateContainerRequest.",
      });
    }
    const prints: string[] = [];
    const base = { request: name, newSandbox, prints, ops: [] as JsonPatchOperation[], bypassed: false };
    let value: JsonValue | undefined;
    try {
      value = this.policy.evalRule(`data.${AGENT_POLICY_PACKAGE}.${name}`, {
        input,
        data: this.data,
        strict: false,
        print: (l) => prints.push(l),
      });
    } catch (e) {
      if (!(e instanceof RegoError)) throw e;
      return { ...base, allowed: false, outcome: "eval-error", value: undefined, error: message(e) };
    }
    const bypass = bypassable && this.failuresAllowed;
    if (value === undefined) {
      return { ...base, allowed: bypass, bypassed: bypass, outcome: "undefined", value };
    }
    if (typeof value === "boolean") {
      const bypassed = !value && bypass;
      return { ...base, allowed: value || bypassed, bypassed, outcome: value ? "allowed" : "denied", value };
    }
    if (!isObject(value)) {
      return {
        ...base,
        allowed: false,
        outcome: "invalid-answer",
        value,
        error: "the answer is not a boolean or object",
      };
    }
    if (typeof value.allowed !== "boolean") {
      return {
        ...base,
        allowed: false,
        outcome: "invalid-answer",
        value,
        error: 'the answer has no boolean "allowed"',
      };
    }
    let ops: JsonPatchOperation[] = [];
    if (value.ops !== undefined && value.ops !== null) {
      try {
        ops = parseJsonPatch(value.ops, `${name}.ops`);
      } catch (e) {
        return { ...base, allowed: false, outcome: "invalid-answer", value, error: message(e) };
      }
    }
    if (!value.allowed) {
      return { ...base, allowed: bypass, bypassed: bypass, outcome: "denied", value };
    }
    if (ops.length > 0) {
      try {
        const next: unknown = applyJsonPatch(this.data, ops, `${name}.ops`);
        // The agent hands the patched document back to regorus as its data, which must be an object.
        if (!isObject(next)) throw new Error("the patched state is not an object");
        this.data = next as AgentState;
      } catch (e) {
        return { ...base, allowed: false, outcome: "state-error", value, error: message(e) };
      }
    }
    return { ...base, allowed: true, outcome: "allowed", value, ops };
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
