import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { create, toBinary } from "@bufbuild/protobuf";
import { ContrastError } from "@contrast/core";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServiceClient } from "../src/client.js";
import { MeshAPI, NewMeshCertResponseSchema } from "../src/gen/contrast/meshapi_pb.js";
import {
  GetManifestsRequestSchema,
  type GetManifestsResponse,
  GetManifestsResponseSchema,
  SetManifestRequestSchema,
  type SetManifestResponse,
  SetManifestResponseSchema,
  UserAPI,
} from "../src/gen/contrast/userapi_pb.js";
import { toGrpcStatus } from "../src/grpc-error.js";
import { grpcServiceDefinition } from "../src/services.js";

const run = promisify(execFile);
const PKG = join(dirname(fileURLToPath(import.meta.url)), "..");
const BUF = join(PKG, "node_modules/.bin/buf");
const bytes = (s: string) => new TextEncoder().encode(s);

// A Coordinator-shaped server: state in memory, every handler answering errors with toGrpcStatus.
let manifests: Uint8Array[] = [];
const userApi: grpc.UntypedServiceImplementation = {
  setManifest(
    call: grpc.ServerUnaryCall<{ Manifest: Uint8Array }, SetManifestResponse>,
    callback: grpc.sendUnaryData<SetManifestResponse>,
  ) {
    if (call.request.Manifest.length === 0) {
      callback(
        toGrpcStatus(
          new ContrastError("MANIFEST_INVALID", "the manifest is empty", {
            kind: "input",
            hint: "Pass manifest.json.",
          }),
        ),
      );
      return;
    }
    manifests.push(call.request.Manifest);
    callback(null, create(SetManifestResponseSchema, { RootCA: bytes("root"), MeshCA: bytes("mesh") }));
  },
  getManifests(
    _call: grpc.ServerUnaryCall<unknown, GetManifestsResponse>,
    callback: grpc.sendUnaryData<GetManifestsResponse>,
  ) {
    callback(null, create(GetManifestsResponseSchema, { Manifests: manifests, RootCA: bytes("root") }));
  },
  recover(_call: unknown, callback: grpc.sendUnaryData<unknown>) {
    callback(
      toGrpcStatus(
        new ContrastError("COORDINATOR_NOT_IN_RECOVERY", "the Coordinator is already recovered", {
          kind: "policy",
          hint: "Nothing to do.",
        }),
      ),
    );
  },
};

let server: grpc.Server;
let port = 0;
beforeAll(async () => {
  server = new grpc.Server();
  server.addService(grpcServiceDefinition(UserAPI), userApi);
  // Pre-1.0 clients call the short package name; the same handlers serve it.
  server.addService(grpcServiceDefinition(UserAPI, "userapi.UserAPI"), userApi);
  server.addService(grpcServiceDefinition(MeshAPI), {
    newMeshCert: (_c: unknown, cb: grpc.sendUnaryData<unknown>) =>
      cb(
        null,
        create(NewMeshCertResponseSchema, { CertChain: bytes("chain"), WorkloadSecret: new Uint8Array([1, 2]) }),
      ),
    recover: (_c: unknown, cb: grpc.sendUnaryData<unknown>) =>
      cb({ code: grpc.status.UNIMPLEMENTED, details: "no peer" }),
  });
  port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
});
afterAll(() => server.forceShutdown());

describe("UserAPI and MeshAPI over grpc-js", () => {
  it("serves the generated services; the typed client sends and receives upstream's field names", async () => {
    manifests = [];
    const client = createServiceClient(UserAPI, `127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const set = await client.setManifest({ Manifest: bytes('{"Policies":{}}'), Policies: [bytes("p")] });
      expect(new TextDecoder().decode(set.RootCA)).toBe("root");
      const got = await client.getManifests({});
      expect(got.Manifests.map((m) => new TextDecoder().decode(m))).toEqual(['{"Policies":{}}']);
      expect(got.LatestTransition).toBeUndefined();
    } finally {
      client.close();
    }
  });

  it("rejects with the server's ContrastError: code, kind and hint survive the wire", async () => {
    const client = createServiceClient(UserAPI, `127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const err = await client.setManifest({}).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ContrastError);
      expect(err).toMatchObject({ code: "MANIFEST_INVALID", kind: "input", hint: "Pass manifest.json." });
      await expect(client.recover({ Force: true })).rejects.toMatchObject({
        code: "COORDINATOR_NOT_IN_RECOVERY",
        kind: "policy",
      });
    } finally {
      client.close();
    }
    const mesh = createServiceClient(MeshAPI, `127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const cert = await mesh.newMeshCert({});
      expect([...cert.WorkloadSecret]).toEqual([1, 2]);
      await expect(mesh.recover({})).rejects.toMatchObject({ code: "API_UNIMPLEMENTED" });
    } finally {
      mesh.close();
    }
  });

  it("answers buf curl, a third-party gRPC client, reading our .proto files", async () => {
    manifests = [bytes("m1")];
    const url = `http://127.0.0.1:${port}/edgelesssys.contrast.userapi.UserAPI/GetManifests`;
    const { stdout } = await run(
      BUF,
      ["curl", "--protocol", "grpc", "--http2-prior-knowledge", "--schema", "proto", url],
      {
        cwd: PKG,
      },
    );
    const json = JSON.parse(stdout) as { Manifests: string[]; RootCA: string };
    expect(json.Manifests).toEqual([Buffer.from("m1").toString("base64")]);
    expect(json.RootCA).toBe(Buffer.from("root").toString("base64"));
  });

  it("serves the pre-1.0 name userapi.UserAPI with the same handlers", async () => {
    manifests = [bytes("m1")];
    const Client = grpc.makeGenericClientConstructor(grpcServiceDefinition(UserAPI, "userapi.UserAPI"), "UserAPI");
    const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
      getManifests(r: unknown, cb: (e: Error | null, r: GetManifestsResponse) => void): void;
    };
    try {
      const res = await new Promise<GetManifestsResponse>((resolve, reject) =>
        client.getManifests(create(GetManifestsRequestSchema, {}), (e, r) => (e ? reject(e) : resolve(r))),
      );
      expect(res.Manifests.map((m) => new TextDecoder().decode(m))).toEqual(["m1"]);
    } finally {
      client.close();
    }
  });

  it("encodes upstream's field numbers: SetManifestRequest is Manifest=1, Policies=2", () => {
    const wire = toBinary(
      SetManifestRequestSchema,
      create(SetManifestRequestSchema, { Manifest: bytes("A"), Policies: [bytes("B")] }),
    );
    expect(Buffer.from(wire).toString("hex")).toBe("0a0141120142");
  });
});

describe("generated code", () => {
  it("is what `pnpm generate` writes from proto/contrast today", async () => {
    const out = mkdtempSync(join(tmpdir(), "api-gen-"));
    try {
      await run(BUF, ["generate", "--output", out], { cwd: PKG });
      const dir = "src/gen/contrast";
      const names = readdirSync(join(PKG, dir)).sort();
      expect(readdirSync(join(out, dir)).sort()).toEqual(names);
      for (const name of names) {
        expect(readFileSync(join(out, dir, name), "utf8"), name).toBe(readFileSync(join(PKG, dir, name), "utf8"));
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
