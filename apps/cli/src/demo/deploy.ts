import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { isRecord, parseYamlDocuments, WORKLOAD_KINDS } from "@contrast/kube";
import {
  admitPod,
  controllerPodName,
  type LocalCluster,
  type PodAdmission,
  type RunningPod,
  type ServiceEntry,
  unpackImage,
} from "@contrast/localrun";
import type { ImageMetadataSource } from "@contrast/oci";

/** One workload of a YAML file, as `kubectl apply` would hand it to the cluster. */
export interface Workload {
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  /** The document's text exactly as deployed: what admission builds the agent's requests from. */
  readonly yaml: string;
  /** The parsed document. */
  readonly object: Readonly<Record<string, unknown>>;
}

/** What a YAML file deploys: its workloads, Services, and the ConfigMaps and Secrets they read. */
export interface Deployment {
  readonly file: string;
  readonly workloads: readonly Workload[];
  readonly services: readonly ServiceEntry[];
  readonly configs: readonly unknown[];
}

/** Splits a YAML file into what the demo's "API server" keeps apart. */
export async function readDeployment(file: string): Promise<Deployment> {
  const text = await readFile(file, "utf8");
  const workloads: Workload[] = [];
  const services: ServiceEntry[] = [];
  const configs: unknown[] = [];
  for (const doc of parseYamlDocuments(text, file)) {
    const o = doc.value;
    if (!isRecord(o) || typeof o.kind !== "string") continue;
    const meta = isRecord(o.metadata) ? o.metadata : {};
    const name = typeof meta.name === "string" ? meta.name : "";
    const namespace = typeof meta.namespace === "string" && meta.namespace !== "" ? meta.namespace : "default";
    if (o.kind === "Service") {
      const spec = isRecord(o.spec) ? o.spec : {};
      const selector = isRecord(spec.selector) ? spec.selector : {};
      services.push({
        name,
        namespace,
        selector: Object.fromEntries(Object.entries(selector).map(([k, v]) => [k, String(v)])),
      });
    } else if (o.kind === "ConfigMap" || o.kind === "Secret") {
      configs.push(o);
    } else if ((WORKLOAD_KINDS as readonly string[]).includes(o.kind)) {
      workloads.push({ kind: o.kind, name, namespace, yaml: doc.raw, object: o });
    }
  }
  return { file, workloads, services, configs };
}

export interface PodRunnerOptions {
  readonly cluster: LocalCluster;
  /** The images' metadata, as the agent's requests are built from them. */
  readonly images: ImageMetadataSource;
  /** The OCI layout the images are unpacked from. */
  readonly layoutDir: string;
  /** Under the demo's directory: unpacked root file systems and claims. */
  readonly workDir: string;
  /** The simulated TEE's directory, which every pod "VM" is given. */
  readonly simDir: string;
}

/** A pod as the demo started it, with the admission that decided it. */
export interface DemoPod {
  readonly workload: Workload;
  readonly name: string;
  readonly admission: PodAdmission;
  readonly pod: RunningPod;
}

/**
 * Plays the part of the kubelet, containerd and the Kata runtime for one pod: builds the agent's
 * requests from the deployed YAML and the images (admission, the same decision as
 * `contrast policy check`), and starts exactly what the policy allowed.
 */
export class PodRunner {
  private readonly rootfs = new Map<string, Promise<string>>();
  /** How many pods each workload has had: a restarted workload's pod is a new one, with a new name. */
  private readonly instances = new Map<string, number>();

  constructor(private readonly options: PodRunnerOptions) {}

  /** Admits and starts the workload's next pod, named as its controller would name it. */
  async run(workload: Workload, configs: readonly unknown[]): Promise<DemoPod> {
    const { cluster, images } = this.options;
    const key = `${workload.namespace}/${workload.kind}/${workload.name}`;
    const instance = this.instances.get(key) ?? 0;
    this.instances.set(key, instance + 1);
    const name = controllerPodName(workload.kind, workload.name, instance);
    const admission = await admitPod({
      yaml: workload.yaml,
      documents: configs,
      images,
      platform: "sim",
      podName: name,
      namespace: workload.namespace,
    });
    const pod = await cluster.runPod({
      name,
      namespace: workload.namespace,
      admission,
      rootfsFor: (image) => this.rootfsFor(image),
      vmEnv: this.vmEnv(admission),
      claimDir: (claim) => join(this.options.workDir, "claims", `${workload.namespace}_${safe(claim)}`),
    });
    return { workload, name, admission, pod };
  }

  /**
   * The pod VM's own variables, outside the policy-checked request as Kata keeps HOST_DATA
   * outside the pod spec: the simulated TEE's directory and this pod's policy hash (what its
   * reports carry as HOST_DATA), and the platform: on a real pod VM the initializer detects its
   * TEE from the guest device, which the simulated "VM" does not have.
   */
  private vmEnv(admission: PodAdmission): Record<string, string> {
    return {
      CONTRAST_SIM_DIR: this.options.simDir,
      ...(admission.policyHash === undefined ? {} : { CONTRAST_SIM_POLICY_HASH: admission.policyHash }),
      CONTRAST_PLATFORM: "sim",
    };
  }

  /** Each image is unpacked once per demo run and shared read-only by its containers. */
  private rootfsFor(image: string): Promise<string> {
    let dir = this.rootfs.get(image);
    if (dir === undefined) {
      dir = unpackImage(this.options.layoutDir, image, join(this.options.workDir, "rootfs", safe(image)));
      this.rootfs.set(image, dir);
    }
    return dir;
  }
}

/** A reference or claim name as one path segment. */
function safe(name: string): string {
  return name.replace(/@sha256:([0-9a-f]{12})[0-9a-f]*/, "@$1").replace(/[^A-Za-z0-9._-]+/g, "_");
}
