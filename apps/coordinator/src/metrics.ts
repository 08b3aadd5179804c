import { ContrastError } from "@contrast/core";
import * as grpc from "@grpc/grpc-js";
import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** Upstream's handling-time buckets (seconds), go-grpc-middleware's histogram as Contrast sets it. */
export const HANDLING_SECONDS_BUCKETS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5] as const;

/**
 * gRPC status codes by number, spelled as grpc-go's `codes.Code.String()` does, because that is
 * the `grpc_code` label upstream's Go Coordinator exports and dashboards match on.
 */
export const GRPC_CODE_NAMES = [
  "OK",
  "Canceled",
  "Unknown",
  "InvalidArgument",
  "DeadlineExceeded",
  "NotFound",
  "AlreadyExists",
  "PermissionDenied",
  "ResourceExhausted",
  "FailedPrecondition",
  "Aborted",
  "OutOfRange",
  "Unimplemented",
  "Internal",
  "Unavailable",
  "DataLoss",
  "Unauthenticated",
] as const;

export interface CoordinatorMetrics {
  readonly registry: Registry;
  /**
   * The unary handlers of `definition`, counting every call that reaches them (both gRPC servers
   * share one set of series, as upstream's do).
   */
  instrument(
    definition: grpc.ServiceDefinition,
    implementation: grpc.UntypedServiceImplementation,
  ): grpc.UntypedServiceImplementation;
  /** Pre-creates zero series for every method of a served service, as InitializeMetrics does. */
  initialize(definition: grpc.ServiceDefinition): void;
  onGeneration(generation: number): void;
  onAttestationFailure(reason?: string): void;
  /** A failed aTLS handshake on one of the APIs, by its ATLS_* code. */
  onHandshakeFailure(api: "user" | "mesh", code: string): void;
}

export interface MetricsOptions {
  /** A monotonic clock in milliseconds; the program passes performance.now. */
  readonly monotonicMs: () => number;
}

/**
 * The Coordinator's Prometheus metrics, named as upstream's: `contrast_grpc_server_*` (started,
 * handled by code, handling seconds, messages received and sent), `contrast_coordinator_manifest_generation`
 * and `contrast_meshapi_attestation_failures_total`. The registry is the program's own, never the
 * global one, so two Coordinators in one process (tests) do not share counters.
 */
export function createMetrics(options: MetricsOptions): CoordinatorMetrics {
  const registry = new Registry();
  const labels = ["grpc_type", "grpc_service", "grpc_method"] as const;
  const started = new Counter({
    name: "contrast_grpc_server_started_total",
    help: "Total number of RPCs started on the server.",
    labelNames: labels,
    registers: [registry],
  });
  const handled = new Counter({
    name: "contrast_grpc_server_handled_total",
    help: "Total number of RPCs completed on the server, regardless of success or failure.",
    labelNames: [...labels, "grpc_code"],
    registers: [registry],
  });
  const handling = new Histogram({
    name: "contrast_grpc_server_handling_seconds",
    help: "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
    labelNames: labels,
    buckets: [...HANDLING_SECONDS_BUCKETS],
    registers: [registry],
  });
  const received = new Counter({
    name: "contrast_grpc_server_msg_received_total",
    help: "Total number of RPC stream messages received on the server.",
    labelNames: labels,
    registers: [registry],
  });
  const sent = new Counter({
    name: "contrast_grpc_server_msg_sent_total",
    help: "Total number of gRPC stream messages sent by the server.",
    labelNames: labels,
    registers: [registry],
  });
  const generation = new Gauge({
    name: "contrast_coordinator_manifest_generation",
    help: "Current manifest generation.",
    registers: [registry],
  });
  generation.set(0);
  const attestationFailures = new Counter({
    name: "contrast_meshapi_attestation_failures_total",
    help: "Number of attestation failures from workloads to the Coordinator.",
    registers: [registry],
  });

  // Ours, not upstream's (its handshakes fail inside grpc-go's TLS): scanners, garbage and
  // clients that time out show here by reason, a bounded set of codes.
  const handshakeFailures = new Counter({
    name: "contrast_atls_handshake_failures_total",
    help: "Number of aTLS handshakes on the user API and mesh API that failed, by reason.",
    labelNames: ["api", "reason"],
    registers: [registry],
  });

  // The labelled series of each method, looked up once: prom-client hashes the label object on
  // every inc/observe given labels, a few microseconds per call that every RPC paid five times.
  const seriesByPath = new Map<string, MethodSeries>();
  const seriesOf = (method: grpc.ServerMethodDefinition<unknown, unknown>): MethodSeries => {
    let series = seriesByPath.get(method.path);
    if (series === undefined) {
      const l = methodLabels(method.path, method.requestStream, method.responseStream);
      const byCode = new Map<number, Counter.Internal>();
      series = {
        started: started.labels(l),
        received: received.labels(l),
        sent: sent.labels(l),
        handling: handling.labels(l),
        handled: (code) => {
          let child = byCode.get(code);
          if (child === undefined) {
            child = handled.labels({ ...l, grpc_code: GRPC_CODE_NAMES[code] ?? String(code) });
            byCode.set(code, child);
          }
          return child;
        },
      };
      seriesByPath.set(method.path, series);
    }
    return series;
  };

  // Counted around the unary handlers rather than by a grpc-js interceptor, which wraps every call
  // in extra call objects (~0.1 ms of CPU per RPC under load). The series are the same as the
  // interceptor of upstream's grpc-go server gives: it runs once the request has been decoded, so
  // a request that fails before that (undecodable, too large, unknown method) is not counted there
  // either.
  const instrument = (
    definition: grpc.ServiceDefinition,
    implementation: grpc.UntypedServiceImplementation,
  ): grpc.UntypedServiceImplementation => {
    const wrapped: grpc.UntypedServiceImplementation = {};
    for (const [name, method] of Object.entries(definition)) {
      const handler =
        implementation[name] ?? (method.originalName === undefined ? undefined : implementation[method.originalName]);
      if (handler === undefined) continue;
      if (method.requestStream || method.responseStream) {
        throw new ContrastError(
          "INTERNAL",
          `metrics: ${method.path} is a streaming method; only unary handlers are counted`,
          {
            kind: "internal",
          },
        );
      }
      const series = seriesOf(method);
      const unary = handler as grpc.handleUnaryCall<unknown, unknown>;
      wrapped[name] = ((call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const t0 = options.monotonicMs();
        series.started.inc();
        series.received.inc();
        let done = false;
        unary(call, (error, value, trailer, flags) => {
          if (!done) {
            done = true;
            if (error === null || error === undefined) series.sent.inc();
            series
              .handled(error === null || error === undefined ? grpc.status.OK : (error.code ?? grpc.status.UNKNOWN))
              .inc();
            series.handling.observe((options.monotonicMs() - t0) / 1000);
          }
          callback(error, value, trailer, flags);
        });
      }) as grpc.UntypedHandleCall;
    }
    return wrapped;
  };

  return {
    registry,
    instrument,
    initialize(definition) {
      for (const m of Object.values(definition)) {
        const l = methodLabels(m.path, m.requestStream, m.responseStream);
        started.inc(l, 0);
        received.inc(l, 0);
        sent.inc(l, 0);
        handling.zero(l);
        for (const code of GRPC_CODE_NAMES) handled.inc({ ...l, grpc_code: code }, 0);
      }
    },
    onGeneration: (n) => generation.set(n),
    // Unlabelled, as upstream's: the reason goes to the log, so the series stays one.
    onAttestationFailure: () => attestationFailures.inc(),
    onHandshakeFailure: (api, code) => handshakeFailures.inc({ api, reason: code }),
  };
}

interface MethodSeries {
  readonly started: Counter.Internal;
  readonly received: Counter.Internal;
  readonly sent: Counter.Internal;
  readonly handling: Histogram.Internal<string>;
  handled(code: number): Counter.Internal;
}

/** "/edgelesssys.contrast.userapi.UserAPI/SetManifest" -> service and method labels. */
function methodLabels(path: string, clientStream: boolean, serverStream: boolean) {
  const slash = path.lastIndexOf("/");
  const grpc_type =
    clientStream && serverStream
      ? "bidi_stream"
      : clientStream
        ? "client_stream"
        : serverStream
          ? "server_stream"
          : "unary";
  return { grpc_type, grpc_service: path.slice(1, slash), grpc_method: path.slice(slash + 1) };
}
