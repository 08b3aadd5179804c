import { fromBase64, fromUtf8, sha256Hex, toBase64, utf8 } from "@contrast/core";
import { PolicyError } from "./errors.js";
import type { PolicyData } from "./policy-data/types.js";

/** The pod annotation that carries the agent policy: base64 of the policy's Rego text. */
export const POLICY_ANNOTATION = "io.katacontainers.config.agent.policy";

/**
 * The policy document: the rules, then `policy_data := <json>`, as genpolicy writes it. The data
 * is pretty-printed with two-space indentation so that a diff of two policies reads well; the
 * bytes are deterministic for the same inputs, which keeps the policy hash stable.
 */
export function policyDocument(rules: string, data: PolicyData): string {
  if (!/^\s*package\s+agent_policy\b/m.test(rules)) {
    throw new PolicyError("POLICY_RULES_INVALID", "the rules do not declare package agent_policy", {
      hint: "The Kata agent evaluates data.agent_policy.<Request>; start rules.rego with `package agent_policy`.",
    });
  }
  const head = rules.endsWith("\n") ? rules : `${rules}\n`;
  return `${head}\npolicy_data := ${JSON.stringify(data, null, 2)}\n`;
}

/** The annotation value for a policy text. */
export function encodePolicyAnnotation(policyText: string): string {
  return toBase64(utf8(policyText));
}

/** The policy text from an annotation value. */
export function decodePolicyAnnotation(value: string): string {
  try {
    return fromUtf8(fromBase64(value));
  } catch (e) {
    throw new PolicyError("POLICY_OBJECT_INVALID", "the policy annotation is not base64 of UTF-8 text", {
      cause: e,
      hint: `${POLICY_ANNOTATION} holds the policy's Rego text in standard base64.`,
    });
  }
}

/**
 * The policy hash: lowercase hex SHA-256 of the policy text's bytes (the base64-decoded
 * annotation). The runtime puts these 32 bytes into SNP HOST_DATA or TDX MRCONFIGID.
 */
export function policyHash(policyText: string): string {
  return sha256Hex(utf8(policyText));
}

/** The policy hash of an annotation value. */
export function policyHashOfAnnotation(value: string): string {
  return sha256Hex(fromBase64(value));
}
