import { sha256Hex, utf8 } from "@contrast/core";
import { runtimeHandler } from "@contrast/manifest";
import { settingsToJson } from "@contrast/policy";
import { canonicalJson } from "./inputs.mjs";

/** The namespace the runtime bundle is deployed to (reference §10). */
export const RUNTIME_NAMESPACE = "kube-system";
export const NODE_INSTALL_CONFIG = "contrast-node-install.json";

/**
 * SHA-256 (hex) of a policy profile, exactly as the CLI's development build hashes it for its
 * handler (apps/cli/src/generate/runtime.ts, `profileDigest`): the policy a runtime enforces is
 * part of what the runtime is.
 * @param {import("@contrast/policy").PolicyProfile} profile
 */
export function profileDigest(profile) {
  return sha256Hex(utf8(`contrast runtime\0${profile.id}\0${settingsToJson(profile.settings)}\0${profile.rules}`));
}

/**
 * The runtime hash of a platform's handler `contrast-cc-<platform>-<8 hex>`: SHA-256 over the node
 * installer image's manifest digest, the node-installer configuration (canonical JSON, so the
 * payload's files and their integrity hashes) and the policy profile's digest. Upstream's hash
 * covers the runtime components (shim, VMM, guest image); these are what names ours. Any change
 * gives a new handler, so several releases can share a node.
 * @param {{ nodeInstallerDigest: string, installConfig: unknown, profileDigest: string }} inputs
 */
export function runtimeHash(inputs) {
  return sha256Hex(
    utf8(
      `contrast runtime release\0${inputs.nodeInstallerDigest}\0${canonicalJson(inputs.installConfig)}\0${inputs.profileDigest}`,
    ),
  ).slice(0, 8);
}

/**
 * @param {import("@contrast/manifest").Platform} platform
 * @param {string} hash
 */
export function handlerFor(platform, hash) {
  return runtimeHandler(platform, hash);
}

/**
 * runtime-<platform>.yml: the RuntimeClass and the node installer DaemonSet with its RBAC and its
 * configuration (reference §9.2, §9.3).
 * @param {import("@contrast/manifest").Platform} platform
 * @param {{ handler: string, nodeInstallerImage: string, installConfig: unknown }} options
 * @returns {Record<string, unknown>[]}
 */
export function runtimeObjects(platform, options) {
  const { handler, nodeInstallerImage } = options;
  const name = `${handler}-nodeinstaller`;
  const labels = { "app.kubernetes.io/name": name };
  const runtimeClass = {
    apiVersion: "node.k8s.io/v1",
    kind: "RuntimeClass",
    metadata: { name: handler, labels: { "addonmanager.kubernetes.io/mode": "Reconcile" } },
    handler,
    // The pod VM's own memory beyond its containers' limits (reference §9.1 defaults).
    overhead: { podFixed: { memory: `${platform.podOverheadMiB}Mi` } },
    ...(platform.id === "aks-clh-snp"
      ? { scheduling: { nodeSelector: { "kubernetes.azure.com/kata-cc-isolation": "true" } } }
      : {}),
  };
  const serviceAccount = { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace: RUNTIME_NAMESPACE } };
  const clusterRole = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name },
    rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["watch"] }],
  };
  const clusterRoleBinding = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
    subjects: [{ kind: "ServiceAccount", name, namespace: RUNTIME_NAMESPACE }],
  };
  const configMap = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: `${name}-config`, namespace: RUNTIME_NAMESPACE },
    data: { [NODE_INSTALL_CONFIG]: `${JSON.stringify(options.installConfig, null, 2)}\n` },
  };
  const daemonSet = {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name, namespace: RUNTIME_NAMESPACE, labels },
    spec: {
      selector: { matchLabels: labels },
      template: {
        metadata: {
          labels,
          annotations: {
            "contrast.edgeless.systems/pod-role": "contrast-node-installer",
            "contrast.edgeless.systems/platform": platform.name,
          },
        },
        spec: {
          serviceAccountName: name,
          // nsenter --target 1 reaches the host's mount namespace to restart containerd.
          hostPID: true,
          ...(platform.id === "aks-clh-snp"
            ? { nodeSelector: { "kubernetes.azure.com/kata-cc-isolation": "true" } }
            : {}),
          initContainers: [
            {
              name: "installer",
              image: nodeInstallerImage,
              // The handler is not in the configuration: its hash is taken over it.
              args: [platform.id, "--runtime-handler", handler],
              env: [
                { name: "HOST_MOUNT", value: "/host" },
                { name: "CONFIG_DIR", value: "/config" },
              ],
              securityContext: { privileged: true },
              resources: { requests: { memory: "700Mi" } },
              volumeMounts: [
                { name: "host-mount", mountPath: "/host" },
                { name: "config", mountPath: "/config", readOnly: true },
              ],
            },
          ],
          // A DaemonSet pod must keep running once the installer is done. Upstream runs its
          // snapshotters here; ours has none to run (docs/release.md), so the installer idles
          // (`node-installer pause`, which ends on SIGTERM).
          containers: [
            {
              name: "pause",
              image: nodeInstallerImage,
              args: ["pause"],
              resources: { requests: { memory: "16Mi" }, limits: { memory: "64Mi" } },
            },
          ],
          volumes: [
            { name: "host-mount", hostPath: { path: "/", type: "Directory" } },
            { name: "config", configMap: { name: `${name}-config` } },
          ],
          tolerations: [{ operator: "Exists" }],
        },
      },
    },
  };
  return [runtimeClass, serviceAccount, clusterRole, clusterRoleBinding, configMap, daemonSet];
}
