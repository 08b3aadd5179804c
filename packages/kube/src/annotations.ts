/** The annotations Contrast reads from workloads (reference §1 and §2.2). */
export const CONTRAST_ANNOTATIONS = {
  podRole: "contrast.edgeless.systems/pod-role",
  skipInitializer: "contrast.edgeless.systems/skip-initializer",
  meshIngress: "contrast.edgeless.systems/servicemesh-ingress",
  meshEgress: "contrast.edgeless.systems/servicemesh-egress",
  meshAdminPort: "contrast.edgeless.systems/servicemesh-admin-interface-port",
  workloadSecretId: "contrast.edgeless.systems/workload-secret-id",
} as const;

/** The GPU settings of a confidential GPU pod (upstream's GPU-configuration how-to). */
export const GPU_ANNOTATIONS = {
  cdi: "cdi.k8s.io/gpu",
  defaultMemory: "io.katacontainers.config.hypervisor.default_memory",
} as const;
