import { ContrastError } from "@contrast/core";
import type { PolicyEntry } from "@contrast/manifest";

/** The pod annotation that gives a workload a role; upstream accepts "" and "coordinator". */
export const POD_ROLE_ANNOTATION = "contrast.edgeless.systems/pod-role";
/** The pod annotation that overrides the workload secret ID (default: the workload ID). */
export const WORKLOAD_SECRET_ID_ANNOTATION = "contrast.edgeless.systems/workload-secret-id";

const ROLES = ["", "coordinator"];

/** One workload whose pods carry a policy, as `generate` found it in the patched YAML. */
export interface PolicyWorkload {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** `<group or core>/<version>/<Kind>/<namespace or default>/<name>`. */
  readonly workloadId: string;
  readonly policyHash: string;
  /** The pod-role annotation, or "". */
  readonly role: string;
  /** The workload-secret-id annotation, or undefined when absent. */
  readonly workloadSecretId: string | undefined;
  /** The file it came from, for messages. */
  readonly file: string;
}

/**
 * The manifest's Policies map, in input order, as upstream v1.5 builds it: SANs
 * `[name, "*"]`, WorkloadSecretID the annotation or the workload ID, Role the pod-role
 * annotation. Two workloads with one policy hash: the first wins, and upstream's quirk is kept:
 * the second is an error only when its SANs equal the first's (the same name), and is skipped
 * otherwise (docs/workload-deployment.md).
 */
export function buildPolicies(workloads: readonly PolicyWorkload[]): Map<string, PolicyEntry> {
  const policies = new Map<string, PolicyEntry>();
  const firstName = new Map<string, PolicyWorkload>();
  for (const w of workloads) {
    const where = `${w.file}: ${w.kind} ${w.namespace === "" ? "" : `${w.namespace}/`}${w.name}`;
    if (w.name === "") {
      throw new ContrastError("CLI_GENERATE_NAME_MISSING", `${w.file}: a ${w.kind} has no metadata.name`, {
        hint: "Give every workload a metadata.name: its mesh certificate is issued for that name.",
        details: { file: w.file, kind: w.kind },
      });
    }
    if (!ROLES.includes(w.role)) {
      throw new ContrastError(
        "CLI_GENERATE_ROLE_INVALID",
        `${where}: annotation ${POD_ROLE_ANNOTATION} is ${JSON.stringify(w.role)}`,
        {
          hint: `Remove the annotation, or set it to "coordinator" on the Coordinator's pod template only.`,
          details: { file: w.file, workload: w.workloadId, role: w.role },
        },
      );
    }
    const sans = [w.name, "*"];
    const first = firstName.get(w.policyHash);
    if (first !== undefined) {
      if (first.name === w.name) {
        throw new ContrastError(
          "CLI_GENERATE_POLICY_COLLISION",
          `policy hash collision: ${first.workloadId} and ${w.workloadId} have the same hash ${w.policyHash}`,
          {
            hint: "Two workloads of the same name have identical pods; rename one, or remove the duplicate resource.",
            details: { hash: w.policyHash, first: first.workloadId, second: w.workloadId },
          },
        );
      }
      continue;
    }
    firstName.set(w.policyHash, w);
    policies.set(w.policyHash, {
      SANs: sans,
      WorkloadSecretID: w.workloadSecretId ?? w.workloadId,
      Role: w.role,
    });
  }
  return policies;
}
