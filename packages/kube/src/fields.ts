import { isRecord } from "./workloads.js";

/**
 * What policy generation knows about each pod-spec field. `true`: a scalar or a subtree that does not
 * change what the agent sees (scheduling, probes' network actions, resources...), taken as is.
 * An object: a structure whose fields are checked in turn. `[x]`: a list of x.
 * A field that is not listed is unknown, and policy generation cannot vouch for what it would
 * do inside the VM; genpolicy refuses such input by default, and so do we.
 */
type Shape = true | { readonly [field: string]: Shape } | readonly [Shape];

const ANY = true as const;

const EXEC: Shape = { command: [ANY] };
const PROBE: Shape = {
  exec: EXEC,
  httpGet: ANY,
  tcpSocket: ANY,
  grpc: ANY,
  initialDelaySeconds: ANY,
  timeoutSeconds: ANY,
  periodSeconds: ANY,
  successThreshold: ANY,
  failureThreshold: ANY,
  terminationGracePeriodSeconds: ANY,
};
const HANDLER: Shape = { exec: EXEC, httpGet: ANY, tcpSocket: ANY, sleep: ANY };
const SECURITY_CONTEXT: Shape = {
  privileged: ANY,
  allowPrivilegeEscalation: ANY,
  readOnlyRootFilesystem: ANY,
  runAsUser: ANY,
  runAsGroup: ANY,
  runAsNonRoot: ANY,
  capabilities: { add: [ANY], drop: [ANY] },
  seccompProfile: ANY,
  seLinuxOptions: ANY,
  appArmorProfile: ANY,
  windowsOptions: ANY,
  procMount: ANY,
};
const CONTAINER: Shape = {
  name: ANY,
  image: ANY,
  imagePullPolicy: ANY,
  command: [ANY],
  args: [ANY],
  workingDir: ANY,
  env: [
    {
      name: ANY,
      value: ANY,
      valueFrom: { configMapKeyRef: ANY, secretKeyRef: ANY, fieldRef: ANY, resourceFieldRef: ANY },
    },
  ],
  envFrom: [{ configMapRef: ANY, secretRef: ANY, prefix: ANY }],
  ports: ANY,
  resources: ANY,
  resizePolicy: ANY,
  volumeMounts: [
    {
      name: ANY,
      mountPath: ANY,
      readOnly: ANY,
      recursiveReadOnly: ANY,
      mountPropagation: ANY,
      subPath: ANY,
      subPathExpr: ANY,
    },
  ],
  volumeDevices: [{ name: ANY, devicePath: ANY }],
  livenessProbe: PROBE,
  readinessProbe: PROBE,
  startupProbe: PROBE,
  lifecycle: { postStart: HANDLER, preStop: HANDLER, stopSignal: ANY },
  terminationMessagePath: ANY,
  terminationMessagePolicy: ANY,
  securityContext: SECURITY_CONTEXT,
  stdin: ANY,
  stdinOnce: ANY,
  tty: ANY,
  restartPolicy: ANY,
  // Not a Kubernetes field, but genpolicy's Container has it: it is the value the downward API's
  // spec.serviceAccountName gives this container's env.
  serviceAccountName: ANY,
};
const VOLUME: Shape = {
  name: ANY,
  emptyDir: ANY,
  configMap: ANY,
  secret: ANY,
  projected: ANY,
  downwardAPI: ANY,
  hostPath: ANY,
  persistentVolumeClaim: ANY,
  // genpolicy's AzureFileVolumeSource: an SMB share the host mounts and shares into the guest.
  azureFile: { secretName: ANY, shareName: ANY, readOnly: ANY },
  ephemeral: ANY,
  image: ANY,
};
const POD_SPEC: Shape = {
  containers: [CONTAINER],
  initContainers: [CONTAINER],
  volumes: [VOLUME],
  securityContext: {
    runAsUser: ANY,
    runAsGroup: ANY,
    runAsNonRoot: ANY,
    fsGroup: ANY,
    fsGroupChangePolicy: ANY,
    supplementalGroups: [ANY],
    supplementalGroupsPolicy: ANY,
    sysctls: [{ name: ANY, value: ANY }],
    seccompProfile: ANY,
    seLinuxOptions: ANY,
    seLinuxChangePolicy: ANY,
    appArmorProfile: ANY,
    windowsOptions: ANY,
    // Not in Kubernetes' PodSecurityContext, but genpolicy's: the default of every container's
    // allowPrivilegeEscalation (NoNewPrivileges).
    allowPrivilegeEscalation: ANY,
  },
  runtimeClassName: ANY,
  restartPolicy: ANY,
  nodeSelector: ANY,
  nodeName: ANY,
  affinity: ANY,
  tolerations: ANY,
  topologySpreadConstraints: ANY,
  imagePullSecrets: ANY,
  serviceAccountName: ANY,
  serviceAccount: ANY,
  automountServiceAccountToken: ANY,
  terminationGracePeriodSeconds: ANY,
  activeDeadlineSeconds: ANY,
  hostname: ANY,
  subdomain: ANY,
  setHostnameAsFQDN: ANY,
  hostNetwork: ANY,
  shareProcessNamespace: ANY,
  dnsConfig: ANY,
  dnsPolicy: ANY,
  hostAliases: ANY,
  priority: ANY,
  priorityClassName: ANY,
  preemptionPolicy: ANY,
  schedulerName: ANY,
  enableServiceLinks: ANY,
  overhead: ANY,
  readinessGates: ANY,
  schedulingGates: ANY,
  os: ANY,
  // Pod-level resources (Kubernetes 1.32+) size the sandbox; the agent never sees them, and
  // genpolicy reads and ignores them.
  resources: { requests: ANY, limits: ANY },
};

/** A field the generator does not know, at its path below the pod spec. */
export interface FieldProblem {
  readonly path: string;
  readonly message: string;
}

/** Every unknown field of a pod spec, with its path (e.g. "spec.containers[0].foo"). */
export function unknownPodSpecFields(spec: unknown, prefix: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  walk(spec, POD_SPEC, prefix, problems);
  return problems;
}

function walk(value: unknown, shape: Shape, path: string, problems: FieldProblem[]): void {
  if (shape === true || value === null || value === undefined) return;
  if (Array.isArray(shape)) {
    if (!Array.isArray(value)) {
      problems.push({ path, message: `${path} must be a list` });
      return;
    }
    value.forEach((item, i) => {
      walk(item, shape[0], `${path}[${i}]`, problems);
    });
    return;
  }
  if (!isRecord(value)) {
    problems.push({ path, message: `${path} must be an object` });
    return;
  }
  const fields = shape as { readonly [field: string]: Shape };
  for (const [key, child] of Object.entries(value)) {
    const sub = Object.hasOwn(fields, key) ? fields[key] : undefined;
    if (sub === undefined) problems.push({ path: `${path}.${key}`, message: `unsupported field ${path}.${key}` });
    else walk(child, sub, `${path}.${key}`, problems);
  }
}
