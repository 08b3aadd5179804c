import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { opensslSelfSigned } from "./tools.js";

/**
 * A stand-in for the Kubernetes API server, for the few REST paths the Coordinator uses:
 * ConfigMaps (get, list, create, update, delete) and Pods (get, list) under
 * `/api/v1/namespaces/<ns>/`. It speaks the real JSON shapes, keeps one resourceVersion counter
 * like etcd, answers stale updates with 409 Conflict and duplicate creates with 409 AlreadyExists,
 * checks the bearer token, and serves HTTPS with its own CA, so clients are tested through a real
 * kubeconfig. No real API server runs in these tests; what it leaves out (watch, patch, field
 * selectors, set-based label selectors, admission) is listed in docs/coordinator-storage.md.
 */
export class KubeApiDouble {
  /** Every request, in order: method and path with query. */
  readonly requests: string[] = [];
  readonly #objects = new Map<string, KubeObject>();
  #version = 100;
  /** Answers for the next requests matching a method and path prefix, to inject server failures. */
  readonly #faults: Fault[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly caPem: string,
    readonly token: string,
    private readonly dir: string,
  ) {}

  static async start(options: { token?: string } = {}): Promise<KubeApiDouble> {
    const dir = mkdtempSync(join(tmpdir(), "contrast-kube-api-"));
    const { keyPath: key, certPath: cert } = opensslSelfSigned(dir, "kube-apiserver-double", [
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ]);
    const caPem = readFileSync(cert, "utf8");
    const token = options.token ?? `token-${randomUUID()}`;
    let double: KubeApiDouble | undefined;
    const server = createHttpsServer({ key: readFileSync(key), cert: caPem }, (req, res) => {
      void double?.handle(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    double = new KubeApiDouble(server, `https://127.0.0.1:${port}`, caPem, token, dir);
    return double;
  }

  /** A kubeconfig (YAML) for this server with a bearer token, as `kubectl` and client libraries read it. */
  kubeconfig(namespace = "default", token = this.token): string {
    const ca = Buffer.from(this.caPem).toString("base64");
    return [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      "- name: double",
      "  cluster:",
      `    server: ${this.url}`,
      `    certificate-authority-data: ${ca}`,
      "users:",
      "- name: tester",
      "  user:",
      `    token: ${token}`,
      "contexts:",
      "- name: double",
      "  context:",
      "    cluster: double",
      "    user: tester",
      `    namespace: ${namespace}`,
      "current-context: double",
      "",
    ].join("\n");
  }

  /** Adds or replaces a pod (pods are only read by the code under test). */
  putPod(namespace: string, pod: PodSpecForDouble): void {
    const obj: KubeObject = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: pod.name,
        namespace,
        uid: randomUUID(),
        resourceVersion: String(++this.#version),
        creationTimestamp: new Date(0).toISOString(),
        labels: pod.labels ?? {},
        annotations: pod.annotations ?? {},
        ...(pod.ownerReferences === undefined ? {} : { ownerReferences: pod.ownerReferences }),
      },
      spec: { containers: [{ name: "coordinator", image: "coordinator" }] },
      status: {
        phase: pod.ready === false ? "Pending" : "Running",
        podIP: pod.ip,
        conditions: [{ type: "Ready", status: pod.ready === false ? "False" : "True" }],
      },
    };
    if (pod.ip === undefined) delete (obj.status as Record<string, unknown>).podIP;
    this.#objects.set(`pods/${namespace}/${pod.name}`, obj);
  }

  /** The stored ConfigMap, or undefined. */
  configMap(namespace: string, name: string): KubeObject | undefined {
    const o = this.#objects.get(`configmaps/${namespace}/${name}`);
    return o === undefined ? undefined : structuredClone(o);
  }

  configMapNames(namespace: string): string[] {
    const prefix = `configmaps/${namespace}/`;
    return [...this.#objects.keys()]
      .filter((k) => k.startsWith(prefix))
      .map((k) => k.slice(prefix.length))
      .sort();
  }

  /** Makes the next `count` requests with this method and path prefix fail with `status` (0: never answer). */
  failNext(method: string, pathPrefix: string, status: number, reason: string, count = 1): void {
    for (let i = 0; i < count; i++) this.#faults.push({ method, pathPrefix, status, reason });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections?.();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", "http://double");
    this.requests.push(`${method} ${url.pathname}${url.search}`);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    try {
      if (req.headers.authorization !== `Bearer ${this.token}`) {
        return send(res, status(401, "Unauthorized", "Unauthorized"));
      }
      const fault = this.#faults.findIndex((f) => f.method === method && url.pathname.startsWith(f.pathPrefix));
      if (fault >= 0) {
        const f = this.#faults.splice(fault, 1)[0] as Fault;
        if (f.status === 0) return; // never answers: for client timeouts
        return send(res, status(f.status, f.reason, `injected ${f.reason}`));
      }
      const m = /^\/api\/v1\/namespaces\/([^/]+)\/(configmaps|pods)(?:\/([^/]+))?$/.exec(url.pathname);
      if (m === null) return send(res, status(404, "NotFound", "the server could not find the requested resource"));
      const [, namespace, resource, name] = m as unknown as [string, string, "configmaps" | "pods", string | undefined];
      if (resource === "pods" && method !== "GET") {
        return send(res, status(405, "MethodNotAllowed", "the double serves pods read-only"));
      }
      if (name === undefined) {
        if (method === "GET") return send(res, this.list(resource, namespace, url.searchParams.get("labelSelector")));
        if (method === "POST") return send(res, this.create(namespace, parseBody(body)));
        return send(res, status(405, "MethodNotAllowed", `${method} is not supported on collections`));
      }
      const key = `${resource}/${namespace}/${name}`;
      const kind = resource === "pods" ? "pods" : "configmaps";
      switch (method) {
        case "GET": {
          const o = this.#objects.get(key);
          return send(res, o ?? notFound(kind, name));
        }
        case "PUT":
          return send(res, this.update(namespace, name, parseBody(body)));
        case "DELETE": {
          if (!this.#objects.delete(key)) return send(res, notFound(kind, name));
          return send(res, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 200 });
        }
        default:
          return send(res, status(405, "MethodNotAllowed", `${method} is not supported`));
      }
    } catch (e) {
      if (e instanceof BadRequest) return send(res, status(400, "BadRequest", e.message));
      return send(res, status(500, "InternalError", String(e)));
    }
  }

  private list(resource: "configmaps" | "pods", namespace: string, selector: string | null): KubeObject {
    const prefix = `${resource}/${namespace}/`;
    const match = parseSelector(selector);
    const items = [...this.#objects.entries()]
      .filter(([k, o]) => k.startsWith(prefix) && match(o.metadata.labels ?? {}))
      .map(([, o]) => o);
    return {
      apiVersion: "v1",
      kind: resource === "pods" ? "PodList" : "ConfigMapList",
      metadata: { resourceVersion: String(this.#version) },
      items,
    } as unknown as KubeObject;
  }

  private create(namespace: string, obj: KubeObject): KubeObject {
    const name = obj.metadata?.name;
    if (typeof name !== "string") throw new BadRequest("metadata.name is required");
    if (obj.metadata.namespace !== undefined && obj.metadata.namespace !== namespace) {
      throw new BadRequest("the namespace of the provided object does not match the namespace sent on the request");
    }
    const invalid = validateConfigMap(name, obj);
    if (invalid !== undefined) return invalid;
    const key = `configmaps/${namespace}/${name}`;
    if (this.#objects.has(key)) {
      return status(409, "AlreadyExists", `configmaps "${name}" already exists`, { name, kind: "configmaps" });
    }
    const stored: KubeObject = {
      ...obj,
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        ...obj.metadata,
        namespace,
        uid: randomUUID(),
        resourceVersion: String(++this.#version),
        creationTimestamp: new Date(0).toISOString(),
      },
    };
    this.#objects.set(key, stored);
    return { ...stored, code: 201 } as KubeObject;
  }

  private update(namespace: string, name: string, obj: KubeObject): KubeObject {
    if (obj.metadata?.name !== name) throw new BadRequest("the name of the object does not match the name on the URL");
    const key = `configmaps/${namespace}/${name}`;
    const current = this.#objects.get(key);
    if (current === undefined) return notFound("configmaps", name);
    const rv = obj.metadata.resourceVersion;
    // ConfigMaps allow unconditional updates: no resourceVersion means last writer wins.
    if (rv !== undefined && rv !== "" && rv !== current.metadata.resourceVersion) {
      return status(
        409,
        "Conflict",
        `Operation cannot be fulfilled on configmaps "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        { name, kind: "configmaps" },
      );
    }
    const invalid = validateConfigMap(name, obj);
    if (invalid !== undefined) return invalid;
    const stored: KubeObject = {
      ...obj,
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        ...obj.metadata,
        namespace,
        uid: current.metadata.uid ?? "",
        creationTimestamp: current.metadata.creationTimestamp ?? "",
        resourceVersion: String(++this.#version),
      },
    };
    this.#objects.set(key, stored);
    return stored;
  }
}

interface Fault {
  readonly method: string;
  readonly pathPrefix: string;
  readonly status: number;
  readonly reason: string;
}

export interface PodSpecForDouble {
  readonly name: string;
  /** Undefined: the pod has no IP yet. */
  readonly ip?: string | undefined;
  readonly ready?: boolean;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly ownerReferences?: readonly { apiVersion: string; kind: string; name: string; uid: string }[];
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [k: string]: unknown;
  };
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
  [k: string]: unknown;
}

class BadRequest extends Error {}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
/** The API server's limit on a ConfigMap's data (corev1 validation, `MaxSecretSize` as well). */
const MAX_CONFIGMAP_BYTES = 1024 * 1024;

function validateConfigMap(name: string, obj: KubeObject): KubeObject | undefined {
  const causes: string[] = [];
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) causes.push(`metadata.name: Invalid value: "${name}"`);
  let size = 0;
  for (const [k, v] of Object.entries(obj.data ?? {})) {
    if (!CONFIG_KEY.test(k)) causes.push(`data[${k}]: Invalid value`);
    size += k.length + Buffer.byteLength(v);
  }
  for (const [k, v] of Object.entries(obj.binaryData ?? {})) {
    if (!CONFIG_KEY.test(k)) causes.push(`binaryData[${k}]: Invalid value`);
    if (typeof v !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) causes.push(`binaryData[${k}]: not base64`);
    size += k.length + Buffer.from(String(v), "base64").length;
  }
  if (size > MAX_CONFIGMAP_BYTES) causes.push(`[]: Too long: must have at most ${MAX_CONFIGMAP_BYTES} bytes`);
  if (causes.length === 0) return undefined;
  return status(422, "Invalid", `ConfigMap "${name}" is invalid: ${causes.join(", ")}`, { name, kind: "ConfigMap" });
}

function parseSelector(selector: string | null): (labels: Record<string, string>) => boolean {
  if (selector === null || selector === "") return () => true;
  const terms = selector.split(",").map((t) => {
    const ne = /^([^!=]+)!=(.*)$/.exec(t);
    if (ne !== null) return (l: Record<string, string>) => l[ne[1] as string] !== ne[2];
    const eq = /^([^!=]+)==?(.*)$/.exec(t);
    if (eq !== null) return (l: Record<string, string>) => l[eq[1] as string] === eq[2];
    if (t.startsWith("!")) return (l: Record<string, string>) => !(t.slice(1) in l);
    return (l: Record<string, string>) => t in l;
  });
  return (labels) => terms.every((t) => t(labels));
}

function parseBody(body: string): KubeObject {
  try {
    return JSON.parse(body) as KubeObject;
  } catch {
    throw new BadRequest("the body is not JSON");
  }
}

function status(code: number, reason: string, message: string, details?: Record<string, unknown>): KubeObject {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    ...(details === undefined ? {} : { details }),
    code,
  };
}

const notFound = (kind: string, name: string) => status(404, "NotFound", `${kind} "${name}" not found`, { name, kind });

function send(res: ServerResponse, obj: KubeObject): void {
  const code = typeof obj.code === "number" ? obj.code : 200;
  const out = { ...obj };
  if (out.kind !== "Status") delete out.code;
  res.writeHead(code, { "Content-Type": "application/json" });
  res.end(JSON.stringify(out));
}
