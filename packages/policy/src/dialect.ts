import {
  checkDialect,
  parseModule,
  type RegoDialect,
  type RegoDialectFinding,
  RegoError,
  regoDialect,
} from "@contrast/rego";
import { PolicyError } from "./errors.js";
import type { PolicyProfile } from "./profiles/types.js";

/**
 * The Rego dialect of the agent that evaluates a profile's policies: regorus 0.2.8 as Microsoft's
 * fork builds it for AKS (with base64 and base64url), else as Kata 3.13.0/3.14.0 build it (regex
 * and std only). Stock Kata and the simulated runtime get the Kata build's set too: one rules file
 * serves every profile, so it must keep to the smallest of them.
 */
export function profileDialect(profile?: PolicyProfile): RegoDialect {
  return regoDialect(profile?.flavour === "microsoft" ? "regorus-0.2.8-microsoft" : "regorus-0.2.8-kata");
}

/**
 * Everything in a policy's Rego text (rules, or a whole policy document) that the dialect lacks;
 * empty when the agent can evaluate all of it. A text that does not parse is POLICY_RULES_INVALID.
 */
export function policyDialectFindings(text: string, dialect: RegoDialect, file = "rules.rego"): RegoDialectFinding[] {
  // generatePolicies asks once per input file, nearly always about the same rules.
  if (last !== undefined && last.text === text && last.dialect === dialect && last.file === file)
    return [...last.findings];
  const findings = uncachedFindings(text, dialect, file);
  last = { text, dialect, file, findings };
  return [...findings];
}

let last: { text: string; dialect: RegoDialect; file: string; findings: readonly RegoDialectFinding[] } | undefined;

function uncachedFindings(text: string, dialect: RegoDialect, file: string): RegoDialectFinding[] {
  let module: ReturnType<typeof parseModule>;
  try {
    module = parseModule(text, { file });
  } catch (e) {
    if (!(e instanceof RegoError)) throw e;
    throw new PolicyError("POLICY_RULES_INVALID", `${file}: the rules are not valid Rego: ${e.message}`, {
      hint: "Fix the Rego syntax at the line and column shown.",
      cause: e,
      file,
    });
  }
  return checkDialect([module], dialect);
}

/** One line per finding, for messages and warnings. */
export function describeFindings(findings: readonly RegoDialectFinding[]): string {
  return findings
    .map((f) => `${f.location.file}:${f.location.line}:${f.location.column}: ${f.message} [${f.code}]`)
    .join("; ");
}

/** The error for rules that use what the agent lacks: POLICY_REGO_DIALECT with every finding. */
export function policyDialectError(findings: readonly RegoDialectFinding[], dialect: RegoDialect): PolicyError {
  const first = findings[0];
  const n = findings.length;
  return new PolicyError(
    "POLICY_REGO_DIALECT",
    `the rules use ${n === 1 ? "something" : `${n} things`} the Kata agent's Rego engine lacks (${dialect.id}): ${describeFindings(findings)}`,
    {
      kind: "policy",
      hint: `The agent evaluates policies with ${dialect.description}; a call it lacks makes the agent deny the request. Rewrite the rule (docs/rego.md, "Dialects").`,
      ...(first === undefined ? {} : { file: first.location.file }),
      details: {
        dialect: dialect.id,
        findings: findings.map((f) => ({
          code: f.code,
          name: f.name,
          line: f.location.line,
          column: f.location.column,
        })),
      },
    },
  );
}
