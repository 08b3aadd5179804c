import { isIPv6 } from "node:net";
import {
  ApiException,
  type ConfigurationOptions,
  CoreV1Api,
  KubeConfig,
  Observable,
  type ObservableMiddleware,
} from "@kubernetes/client-node";

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
 * The pod's own API access, like client-go's `rest.InClusterConfig`, with every input passed in:
 * the library reads neither the environment nor fixed paths on its own.
 */
export function inClusterKubeConfig(config: InClusterConfig): KubeConfig {
  const host = isIPv6(config.host) ? `[${config.host}]` : config.host;
  const kc = new KubeConfig();
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
  return kc;
}

/** A kubeconfig document (YAML or JSON), e.g. for running a Coordinator outside the cluster. */
export function kubeConfigFromString(document: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(document);
  return kc;
}

/** The core/v1 client the ConfigMap store and peer discovery take. */
export function coreV1Api(kc: KubeConfig): CoreV1Api {
  return kc.makeApiClient(CoreV1Api);
}

/** Per-call options that abort a request after `ms` (upstream gives every API call 10 s). */
export function timeoutOptions(ms: number): ConfigurationOptions<ObservableMiddleware> {
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
  if (!(err instanceof ApiException)) return undefined;
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
    status: err.code,
    reason: typeof b.reason === "string" ? b.reason : "",
    message: typeof b.message === "string" ? b.message : (String(err.message).split("\n")[0] ?? ""),
  };
}
