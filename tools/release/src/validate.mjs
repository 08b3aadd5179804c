import { createRequire } from "node:module";
import { releaseError } from "./errors.mjs";

const require = createRequire(import.meta.url);

/**
 * kubernetes-models' classes carry validators compiled from the Kubernetes OpenAPI schema (v1.27):
 * types, required fields and enumerations of every nested object. There is no API server here for
 * `kubectl apply --dry-run=server`, and client-side kubectl validation needs one for its schema.
 * What they do not check: unknown fields (docs/release.md).
 */
const MODELS = {
  "v1/ConfigMap": "kubernetes-models/v1/ConfigMap",
  "v1/Service": "kubernetes-models/v1/Service",
  "v1/ServiceAccount": "kubernetes-models/v1/ServiceAccount",
  "apps/v1/DaemonSet": "kubernetes-models/apps/v1/DaemonSet",
  "apps/v1/StatefulSet": "kubernetes-models/apps/v1/StatefulSet",
  "node.k8s.io/v1/RuntimeClass": "kubernetes-models/node.k8s.io/v1/RuntimeClass",
  "rbac.authorization.k8s.io/v1/ClusterRole": "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole",
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding":
    "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding",
  "rbac.authorization.k8s.io/v1/Role": "kubernetes-models/rbac.authorization.k8s.io/v1/Role",
  "rbac.authorization.k8s.io/v1/RoleBinding": "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding",
};

/**
 * Validates Kubernetes objects against their API schema; throws RELEASE_OBJECT_INVALID naming the
 * object and the failing fields.
 * @param {readonly Record<string, unknown>[]} objects
 * @param {string} source
 */
export function validateObjects(objects, source) {
  for (const o of objects) {
    const kind = `${o.apiVersion}/${o.kind}`;
    const name = /** @type {{ name?: string } | undefined} */ (o.metadata)?.name ?? "(unnamed)";
    const module = MODELS[/** @type {keyof typeof MODELS} */ (kind)];
    if (module === undefined)
      throw releaseError("RELEASE_OBJECT_INVALID", `${source}: ${kind} ${name} has no schema to validate against`);
    const Model = Object.values(require(module)).find((v) => typeof v === "function" && v.name === o.kind);
    try {
      new Model(o).validate();
    } catch (e) {
      throw releaseError(
        "RELEASE_OBJECT_INVALID",
        `${source}: ${o.kind} ${name}: ${e instanceof Error ? e.message : String(e)}`,
        {
          cause: e,
        },
      );
    }
  }
}
