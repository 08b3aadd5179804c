import { create } from "@bufbuild/protobuf";
import {
  createServiceClient,
  GetManifestsResponseSchema,
  grpcServiceDefinition,
  toGrpcStatus,
  UserAPI,
} from "@contrast/api";
import { ContrastError, noopLogger } from "@contrast/core";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMetrics, HANDLING_SECONDS_BUCKETS } from "../src/metrics.js";
import { createProbeServer } from "../src/probes.js";

let now = 0;
const metrics = createMetrics({ monotonicMs: () => now });
const server = new grpc.Server();
const probeServer = createProbeServer({
  registry: metrics.registry,
  logger: noopLogger,
  probes: {
    startup: () => ({ ok: true }),
    liveness: async () => ({ ok: true }),
    readiness: async () => ({ ok: false, reason: "stale: recovery needed" }),
  },
});
let port = 0;
let probeBase = "";

beforeAll(async () => {
  const definition = grpcServiceDefinition(UserAPI);
  metrics.initialize(definition);
  server.addService(
    definition,
    metrics.instrument(definition, {
      getManifests(_call: unknown, cb: grpc.sendUnaryData<unknown>) {
        now += 3; // the handler "takes" 3 ms on the injected monotonic clock
        cb(null, create(GetManifestsResponseSchema, {}));
      },
      setManifest(_call: unknown, cb: grpc.sendUnaryData<unknown>) {
        cb(toGrpcStatus(new ContrastError("MANIFEST_UPDATE_UNAUTHORIZED", "not an owner", { kind: "policy" })));
      },
      recover(_call: unknown, cb: grpc.sendUnaryData<unknown>) {
        cb(
          toGrpcStatus(new ContrastError("COORDINATOR_NOT_IN_RECOVERY", "running", { kind: "policy" }), {
            statusByCode: { COORDINATOR_NOT_IN_RECOVERY: grpc.status.FAILED_PRECONDITION },
          }),
        );
      },
    }),
  );
  port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  await new Promise<void>((resolve) => probeServer.listen(0, "127.0.0.1", resolve));
  const a = probeServer.address();
  probeBase = `http://127.0.0.1:${typeof a === "object" && a !== null ? a.port : 0}`;
});
afterAll(async () => {
  server.forceShutdown();
  await new Promise((r) => probeServer.close(r));
});

const scrape = async () => (await fetch(`${probeBase}/metrics`)).text();
const sample = (text: string, series: string) => {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};
const L = (method: string) =>
  `grpc_type="unary",grpc_service="edgelesssys.contrast.userapi.UserAPI",grpc_method="${method}"`;

describe("metrics", () => {
  it("pre-creates zero series for every method and code, and the generation gauge at 0", async () => {
    const text = await scrape();
    expect(sample(text, `contrast_grpc_server_started_total{${L("Recover")}}`)).toBe(0);
    expect(sample(text, `contrast_grpc_server_handled_total{${L("Recover")},grpc_code="Unauthenticated"}`)).toBe(0);
    expect(sample(text, "contrast_coordinator_manifest_generation")).toBe(0);
    expect(sample(text, "contrast_meshapi_attestation_failures_total")).toBe(0);
    for (const b of HANDLING_SECONDS_BUCKETS) {
      expect(text).toContain(`contrast_grpc_server_handling_seconds_bucket{le="${b}",${L("Recover")}} 0`);
    }
  });

  it("counts started and handled calls by grpc-go's code names, with latency from the injected clock", async () => {
    const client = createServiceClient(UserAPI, `127.0.0.1:${port}`, grpc.credentials.createInsecure());
    await client.getManifests({});
    await client.getManifests({});
    await expect(client.setManifest({})).rejects.toMatchObject({ code: "MANIFEST_UPDATE_UNAUTHORIZED" });
    await expect(client.recover({})).rejects.toMatchObject({ code: "COORDINATOR_NOT_IN_RECOVERY" });
    const text = await scrape();
    expect(sample(text, `contrast_grpc_server_started_total{${L("GetManifests")}}`)).toBe(2);
    expect(sample(text, `contrast_grpc_server_handled_total{${L("GetManifests")},grpc_code="OK"}`)).toBe(2);
    expect(sample(text, `contrast_grpc_server_handled_total{${L("SetManifest")},grpc_code="PermissionDenied"}`)).toBe(
      1,
    );
    expect(sample(text, `contrast_grpc_server_handled_total{${L("Recover")},grpc_code="FailedPrecondition"}`)).toBe(1);
    expect(sample(text, `contrast_grpc_server_msg_received_total{${L("GetManifests")}}`)).toBe(2);
    expect(sample(text, `contrast_grpc_server_msg_sent_total{${L("GetManifests")}}`)).toBe(2);
    expect(sample(text, `contrast_grpc_server_msg_sent_total{${L("SetManifest")}}`)).toBe(0);
    expect(sample(text, `contrast_grpc_server_handling_seconds_sum{${L("GetManifests")}}`)).toBeCloseTo(0.006, 6);
    expect(sample(text, `contrast_grpc_server_handling_seconds_bucket{le="0.001",${L("GetManifests")}}`)).toBe(0);
    expect(sample(text, `contrast_grpc_server_handling_seconds_bucket{le="0.005",${L("GetManifests")}}`)).toBe(2);
    client.close();
  });

  it("does not count a request that never reaches a handler (undecodable), as upstream's grpc-go interceptor", async () => {
    const before = await scrape();
    const series = `contrast_grpc_server_started_total{${L("GetManifests")}}`;
    const raw = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const err = await new Promise<grpc.ServiceError | null>((resolve) =>
      raw.makeUnaryRequest(
        "/edgelesssys.contrast.userapi.UserAPI/GetManifests",
        () => Buffer.from([0xff, 0xff, 0xff]), // no valid protobuf tag
        (b: Buffer) => b,
        {},
        (e) => resolve(e),
      ),
    );
    raw.close();
    expect(err?.code).toBe(grpc.status.INTERNAL);
    const after = await scrape();
    expect(sample(after, series)).toBe(sample(before, series));
    expect(sample(after, `contrast_grpc_server_handled_total{${L("GetManifests")},grpc_code="Internal"}`)).toBe(0);
  });

  it("refuses to count a streaming method, which it could not count right", () => {
    const definition = grpcServiceDefinition(UserAPI);
    const [name, method] = Object.entries(definition)[0] as [string, grpc.MethodDefinition<unknown, unknown>];
    const streaming = { [name]: { ...method, responseStream: true } } as grpc.ServiceDefinition;
    expect(() => metrics.instrument(streaming, { [name]: () => {} })).toThrow(/streaming/);
  });

  it("sets the generation and counts attestation failures", async () => {
    metrics.onGeneration(3);
    metrics.onAttestationFailure("EVIDENCE_REPORT_DATA_MISMATCH");
    metrics.onAttestationFailure("ATLS_NONCE_UNKNOWN");
    metrics.onHandshakeFailure("mesh", "ATLS_HANDSHAKE_TIMEOUT");
    const text = await scrape();
    expect(sample(text, "contrast_coordinator_manifest_generation")).toBe(3);
    expect(sample(text, "contrast_meshapi_attestation_failures_total")).toBe(2);
    expect(sample(text, 'contrast_atls_handshake_failures_total{api="mesh",reason="ATLS_HANDSHAKE_TIMEOUT"}')).toBe(1);
  });
});

describe("probe server", () => {
  it("answers the three probes with 200 or 503 and the reason", async () => {
    expect((await fetch(`${probeBase}/probe/startup`)).status).toBe(200);
    expect((await fetch(`${probeBase}/probe/liveness`)).status).toBe(200);
    const ready = await fetch(`${probeBase}/probe/readiness`);
    expect(ready.status).toBe(503);
    expect(await ready.text()).toBe("stale: recovery needed\n");
  });

  it("answers 404 for other paths and 405 for other methods", async () => {
    expect((await fetch(`${probeBase}/probes/startup`)).status).toBe(404);
    const post = await fetch(`${probeBase}/metrics`, { method: "POST", body: "x" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
  });

  it("serves /metrics in the Prometheus text format", async () => {
    const res = await fetch(`${probeBase}/metrics`);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await res.text()).toContain("# TYPE contrast_grpc_server_handled_total counter");
  });
});
