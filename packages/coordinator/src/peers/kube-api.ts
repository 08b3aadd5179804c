import { isIPv6 } from "node:net";
import type { ConfigurationOptions, CoreV1Api, ObservableMiddleware } from "@kubernetes/client-node";

type ClientNode = typeof import("@kubernetes/client-node");
let clientNodeModule: Promise<ClientNode> | undefined;

/**
 * The Kubernetes client library, loaded on first use: it takes most of a second to load, and a
 * Coordinator on the filesystem store never needs it.
 */
function clientNode(): Promise<ClientNode> {
  clientNodeModule ??= import("@kubernetes/client-node");
  return clientNodeModule;
}

/** Where a Coordinator pod finds the API server and its service-account credentials. */
export interface InClusterConfig {
  /** `KUBERNETES_SERVICE_HOST` of the pod (the app reads the environment, not this library). */
  readonly host: string;
  /** `KUBERNETES_SERVICE_PORT`. */
  readonly port: string;
  /** Default `/var/run/secrets/kubernetes.io/serviceaccount/token`; re-read every minute (projected tokens rotate). */
  readonly tokenFile?: string;
  /** Default `/var/run/secrets/kubernetes.io/serviceaccount/ca.crt`. */
  readonly caFile?: string;
}

export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/**
 * A core/v1 client with the pod's own API access, like client-go's `rest.InClusterConfig`, with
 * every input passed in: the library reads neither the environment nor fixed paths on its own.
 */
export async function inClusterCoreV1Api(config: InClusterConfig): Promise<CoreV1Api> {
  const k8s = await clientNode();
  const host = isIPv6(config.host) ? `[${config.host}]` : config.host;
  const kc = new k8s.KubeConfig();
  kc.loadFromClusterAndUser(
    {
      name: "in-cluster",
      server: `https://${host}:${config.port}`,
      caFile: config.caFile ?? `${SERVICE_ACCOUNT_DIR}/ca.crt`,
      skipTLSVerify: false,
    },
    {
      name: "in-cluster",
      authProvider: { name: "tokenFile", config: { tokenFile: config.tokenFile ?? `${SERVICE_ACCOUNT_DIR}/token` } },
    },
  );
  return kc.makeApiClient(k8s.CoreV1Api);
}

/** A core/v1 client from a kubeconfig document (YAML or JSON), e.g. for a Coordinator outside the cluster. */
export async function kubeconfigCoreV1Api(document: string): Promise<CoreV1Api> {
  const k8s = await clientNode();
  const kc = new k8s.KubeConfig();
  kc.loadFromString(document);
  return kc.makeApiClient(k8s.CoreV1Api);
}

/** Per-call options that abort a request after `ms` (upstream gives every API call 10 s). */
export async function timeoutOptions(ms: number): Promise<ConfigurationOptions<ObservableMiddleware>> {
  const { Observable } = await clientNode();
  const middleware: ObservableMiddleware = {
    pre: (ctx) => {
      ctx.setSignal(AbortSignal.timeout(ms));
      return new Observable(Promise.resolve(ctx));
    },
    post: (res) => new Observable(Promise.resolve(res)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: "append" };
}

/** The API server's answer to a failed call: HTTP status and the Status reason (`NotFound`, `Conflict`, ...). */
export interface KubeFailure {
  readonly status: number;
  readonly reason: string;
  readonly message: string;
}

/** The HTTP status and Status reason of a client error, or undefined for other failures (network, abort). */
export function kubeFailure(err: unknown): KubeFailure | undefined {
  // The client's ApiException, recognised by shape so that this module need not load the client.
  if (!(err instanceof Error) || !("body" in err) || !("headers" in err)) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code !== "number") return undefined;
  let body: unknown = err.body;
  if (typeof body === "string") {
    try {
      body = JSON.parse(body);
    } catch {
      // Not a Status object: only the HTTP status is known.
    }
  }
  const b = (typeof body === "object" && body !== null ? body : {}) as { reason?: unknown; message?: unknown };
  return {
    status: code,
    reason: typeof b.reason === "string" ? b.reason : "",
    message: typeof b.message === "string" ? b.message : (String(err.message).split("\n")[0] ?? ""),
  };
}
