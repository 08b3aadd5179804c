// Admission: the pod's agent policy decides its containers exactly as the Kata agent would, on
// the requests containerd and the Kata runtime would send for the YAML actually deployed.
import { sha256Hex, utf8 } from "@contrast/core";
import { isContrastRuntimeClass, isRecord, type JsonRecord, runtimeClassName } from "@contrast/kube";
import {
  AgentPolicy,
  type DenialReason,
  type HonestStream,
  honestRequestsForYaml,
  initdataPolicyHash,
  policyHash,
  policyOfAnnotations,
  policyProfile,
} from "@contrast/policy";
import { type ContainerPort, containerPorts, PROBE_FIELDS, probeAction, probeTiming } from "./admission/probes.js";
import type {
  AdmissionInput,
  AdmittedContainer,
  AdmittedProbe,
  ExecDecision,
  PodAdmission,
  PodDenial,
} from "./admission/types.js";
import { containerMounts, podVolumes } from "./admission/volumes.js";
import { AdmissionError } from "./admission-error-codes.js";

export type {
  AdmissionInput,
  AdmittedContainer,
  AdmittedProbe,
  AdmittedVolumeMount,
  ExecDecision,
  PodAdmission,
  PodDenial,
  PodVolume,
  ProbeAction,
} from "./admission/types.js";

type RestartPolicy = AdmittedContainer["restartPolicy"];

/** What admitExec needs of an admitted pod; kept beside the plain-data admission. */
interface AgentSession {
  readonly agent: AgentPolicy | undefined;
  readonly pod: string;
  readonly containers: ReadonlyMap<string, { readonly containerId: string; readonly process: JsonRecord }>;
  execs: number;
}

const sessions = new WeakMap<PodAdmission, AgentSession>();

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.map((x) => String(x)) : [];
}

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isRecord(v)) for (const [k, x] of Object.entries(v)) if (typeof x === "string") out[k] = x;
  return out;
}

function restartPolicyOf(v: unknown, fallback: RestartPolicy): RestartPolicy {
  return v === "Always" || v === "OnFailure" || v === "Never" ? v : fallback;
}

/** The denial as `contrast policy check --honest` would show it: the request, then one line per reason. */
function denialText(
  pod: string,
  request: string,
  container: string | undefined,
  reasons: readonly DenialReason[],
): string {
  const head = `${request}${container === undefined ? "" : ` for container "${container}"`}: denied by data.agent_policy.${request}`;
  const lines = reasons.length === 0 ? ["  (the policy gives no reason)"] : reasons.map((r) => `  ${r.message}`);
  return [`pod ${pod} is blocked by its policy:`, head, ...lines].join("\n");
}

/** The container a request of the stream belongs to: the first whose requests reach past it. */
function containerOfRequest(stream: HonestStream, index: number): string | undefined {
  if (stream.requests[index]?.name === "CreateSandboxRequest") return undefined;
  for (const c of stream.containers) {
    const last = Math.max(c.create + 1, ...c.execs);
    if (index <= last) return c.name === "" ? "pause" : c.name;
  }
  return undefined;
}

/**
 * Builds the requests containerd and the Kata runtime send for the deployed workload (the same
 * builder as `contrast policy check --honest`) and has the pod's policy decide them in order, as
 * its agent would. A denied CreateSandbox, CreateContainer, StartContainer or file copy blocks
 * the pod; a denied ExecProcessRequest (an exec probe) only makes that probe fail, as in a Kata
 * pod. Admitted containers run the process of their allowed request: args, env, cwd and user
 * come from its OCI.Process.
 */
export async function admitPod(input: AdmissionInput): Promise<PodAdmission> {
  const pod = `${input.namespace}/${input.podName}`;
  const profile = policyProfile(input.platform ?? "sim");
  const built = await honestRequestsForYaml(input.yaml, {
    images: input.images,
    profile,
    identity: {
      sandboxName: input.podName,
      namespace: input.namespace,
      ...(input.podIp === undefined ? {} : { podIp: input.podIp }),
      ...(input.hostIp === undefined ? {} : { hostIp: input.hostIp }),
    },
    configDocuments: input.documents ?? [],
    source: pod,
  });
  const only = built[0];
  if (built.length !== 1 || only === undefined) {
    throw new AdmissionError(
      "LOCALRUN_WORKLOAD_INVALID",
      `${pod}: the deployed YAML holds ${built.length} pod templates, not one`,
      { details: { pod, templates: built.length } },
    );
  }
  const { template, stream } = only;
  const spec = template.spec;
  const labels = stringMap(template.podMetadata.labels);
  const annotations = stringMap(template.podMetadata.annotations);
  const runtimeClass = runtimeClassName(spec) || undefined;
  const hostname = typeof spec.hostname === "string" && spec.hostname !== "" ? spec.hostname : input.podName;
  const podRestart = restartPolicyOf(spec.restartPolicy, "Always");
  const volumes = podVolumes(spec, template.claimTemplates, input.podName, input.namespace, input.documents ?? []);
  const found = policyOfAnnotations(template.podMetadata.annotations, pod);
  const base = { labels, annotations, hostname, runtimeClassName: runtimeClass, restartPolicy: podRestart, volumes };

  if (found === undefined && isContrastRuntimeClass(runtimeClass ?? "")) {
    // A Contrast pod VM without a policy would run whatever it is asked to: the demo refuses it,
    // and it could not attest anyway (its HOST_DATA names no policy of the manifest).
    const reasons: DenialReason[] = [
      { field: "policy", message: "the pod has no agent policy annotation: run `contrast generate` on its YAML" },
    ];
    const admission: PodAdmission = {
      ...base,
      allowed: false,
      policyHash: undefined,
      containers: [],
      denial: {
        request: "CreateSandboxRequest",
        reasons,
        text: denialText(pod, "CreateSandboxRequest", undefined, reasons),
      },
    };
    sessions.set(admission, { agent: undefined, pod, containers: new Map(), execs: 0 });
    return admission;
  }

  const hash =
    found === undefined
      ? undefined
      : found.annotation === "initdata" && found.initdata !== undefined
        ? initdataPolicyHash(found.initdata, pod)
        : policyHash(found.policy);
  // A pod outside Contrast's runtime classes has no agent: everything the runtime sends runs.
  const agent = found === undefined ? undefined : new AgentPolicy(found.policy, { file: `${pod}/policy.rego` });

  // Decided in order with the state carried, and only up to a blocking denial: the runtime sends
  // nothing of a pod after its agent refused to create the sandbox or a container.
  const decisions: { readonly allowed: boolean; readonly reasons?: readonly DenialReason[] | undefined }[] = [];
  let blocked: PodDenial | undefined;
  for (const [i, r] of stream.requests.entries()) {
    const d: { readonly allowed: boolean; readonly reasons?: readonly DenialReason[] | undefined } =
      agent === undefined ? { allowed: true } : agent.decide(r.name, r.input);
    decisions.push(d);
    if (d.allowed || r.name === "ExecProcessRequest") continue;
    const container = containerOfRequest(stream, i);
    const reasons = d.reasons ?? [];
    blocked = {
      request: r.name,
      ...(container === undefined ? {} : { container }),
      reasons,
      text: denialText(pod, r.name, container, reasons),
    };
    break;
  }
  const blockedAt = decisions.length - (blocked === undefined ? 0 : 1);

  const specContainers = new Map<string, { c: JsonRecord; init: boolean }>();
  for (const c of Array.isArray(spec.initContainers) ? spec.initContainers.filter(isRecord) : []) {
    specContainers.set(String(c.name ?? ""), { c, init: true });
  }
  for (const c of Array.isArray(spec.containers) ? spec.containers.filter(isRecord) : []) {
    specContainers.set(String(c.name ?? ""), { c, init: false });
  }

  const containers: AdmittedContainer[] = [];
  const sessionContainers = new Map<string, { containerId: string; process: JsonRecord }>();
  for (const hc of stream.containers) {
    if (hc.name === "") continue;
    // A container is admitted when its create and start requests come before the block.
    if (blocked !== undefined && hc.create + 1 >= blockedAt) break;
    const entry = specContainers.get(hc.name);
    const request = stream.requests[hc.create]?.input;
    const oci = isRecord(request) && isRecord(request.OCI) ? request.OCI : {};
    const process = isRecord(oci.Process) ? oci.Process : {};
    if (entry === undefined) continue;
    const { c, init } = entry;
    const sidecar = init && c.restartPolicy === "Always";
    const role = sidecar ? "sidecar" : init ? "init" : "main";
    const ports = containerPorts(c);
    const probes = admittedProbes(c, ports, hc.execs, decisions, pod, hc.name);
    const user = isRecord(process.User) ? process.User : {};
    const caps = isRecord(process.Capabilities) ? strings(process.Capabilities.Bounding) : [];
    containers.push({
      name: hc.name,
      role,
      image: String(c.image ?? ""),
      args: strings(process.Args),
      env: strings(process.Env),
      cwd: typeof process.Cwd === "string" && process.Cwd !== "" ? process.Cwd : "/",
      user: { uid: Number(user.UID ?? 0), gid: Number(user.GID ?? 0) },
      volumeMounts: containerMounts(c, volumes, hc.name),
      ports,
      probes,
      restartPolicy: sidecar ? "Always" : init ? (podRestart === "Never" ? "Never" : "OnFailure") : podRestart,
      privileged: isRecord(c.securityContext) && c.securityContext.privileged === true,
      capabilities: caps,
    });
    sessionContainers.set(hc.name, { containerId: hc.containerId, process });
  }
  const admission: PodAdmission = {
    ...base,
    allowed: blocked === undefined,
    policyHash: hash,
    containers,
    ...(blocked === undefined ? {} : { denial: blocked }),
  };
  sessions.set(admission, { agent, pod, containers: sessionContainers, execs: 0 });
  return admission;
}

/** The container's probes; an exec probe carries the decision on its ExecProcessRequest. */
function admittedProbes(
  c: JsonRecord,
  ports: readonly ContainerPort[],
  execs: readonly number[],
  decisions: readonly { readonly allowed: boolean; readonly reasons?: readonly DenialReason[] | undefined }[],
  pod: string,
  container: string,
): AdmittedProbe[] {
  const out: AdmittedProbe[] = [];
  // The stream's exec requests follow execCommands: exec probes in PROBE_FIELDS order, then hooks.
  let exec = 0;
  for (const [type, field] of PROBE_FIELDS) {
    const probe = c[field];
    if (!isRecord(probe)) continue;
    const action = probeAction(probe, ports, `container ${container}: ${field}`);
    if (action === undefined) continue;
    let allowed = true;
    let denial: PodDenial | undefined;
    if (action.kind === "exec") {
      const index = execs[exec++];
      const d = index === undefined ? undefined : decisions[index];
      allowed = d?.allowed === true;
      if (!allowed) {
        const reasons = d?.reasons ?? [];
        denial = {
          request: "ExecProcessRequest",
          container,
          reasons,
          text: denialText(pod, "ExecProcessRequest", container, reasons),
        };
      }
    }
    out.push({ type, action, allowed, ...(denial === undefined ? {} : { denial }), ...probeTiming(probe) });
  }
  return out;
}

/**
 * Decides an exec into a running container of an admitted pod (an ExecProcessRequest as the
 * Kata runtime builds it for `kubectl exec` or an exec probe), against the policy and the agent
 * state the pod's admission left, as the pod's agent would.
 */
export function admitExec(admission: PodAdmission, container: string, command: readonly string[]): ExecDecision {
  const session = sessions.get(admission);
  const target = session?.containers.get(container);
  if (session === undefined || target === undefined) {
    throw new AdmissionError(
      "LOCALRUN_EXEC_CONTAINER_UNKNOWN",
      `container ${container} is not an admitted container of this pod`,
      { details: { container } },
    );
  }
  if (session.agent === undefined) return { allowed: true };
  const n = session.execs++;
  const h = sha256Hex(utf8(`exec:${target.containerId}/run/${n}`));
  const execId = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
  const process = { ...target.process, Args: [...command], Terminal: false, Capabilities: null, OOMScoreAdj: 0 };
  const d = session.agent.decide("ExecProcessRequest", {
    container_id: target.containerId,
    exec_id: execId,
    string_user: null,
    process,
  });
  if (d.allowed) return { allowed: true };
  const reasons = d.reasons ?? [];
  return {
    allowed: false,
    denial: {
      request: "ExecProcessRequest",
      container,
      reasons,
      text: denialText(session.pod, "ExecProcessRequest", container, reasons),
    },
  };
}
