import { join } from "node:path";
import { ContrastError, type ErrorKind } from "@contrast/core";
import { fuzzRuns, scratchDir } from "@contrast/testkit";
import * as grpc from "@grpc/grpc-js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromGrpcError, STATUS_DETAILS_KEY, toGrpcStatus } from "../src/grpc-error.js";
import { grpcStatusOfKind } from "../src/grpc-status.js";
import { ERROR_INFO_TYPE_URL, encodeErrorInfo, encodeRpcStatus } from "../src/status-details.js";
import { callAt, probeServer } from "./server.js";

interface Throw {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly message: string;
  readonly hint?: string;
}

type Request =
  | { readonly throw: Throw; readonly status?: grpc.status }
  | { readonly plain: string }
  | { readonly system: "ENOENT" }
  | { readonly bare: { readonly code: number; readonly details: string } }
  | { readonly trailer: { readonly code: number; readonly details: string; readonly hex: string } }
  | { readonly hang: true };

// The server a Coordinator will be: every handler catches and answers with toGrpcStatus.
const probe = probeServer((raw, callback) => {
  const request = raw as Request;
  try {
    if ("throw" in request) {
      const { code, kind, message, hint } = request.throw;
      throw new ContrastError(code, message, { kind, ...(hint === undefined ? {} : { hint }) });
    }
    if ("plain" in request) throw new TypeError(request.plain);
    if ("system" in request) {
      throw Object.assign(new Error("ENOENT: no such file or directory, open '/state/manifest'"), {
        code: "ENOENT",
        syscall: "open",
        path: "/state/manifest",
      });
    }
    if ("bare" in request) return callback(request.bare);
    if ("trailer" in request) {
      const metadata = new grpc.Metadata();
      metadata.set(STATUS_DETAILS_KEY, Buffer.from(request.trailer.hex, "hex"));
      return callback({ code: request.trailer.code, details: request.trailer.details, metadata });
    }
    // "hang": never answers, so the client's deadline passes.
  } catch (e) {
    const status = "throw" in request ? request.status : undefined;
    callback(toGrpcStatus(e, status === undefined ? {} : { statusByCode: { [(e as ContrastError).code]: status } }));
  }
});

const KINDS: readonly [ErrorKind, grpc.status][] = [
  ["input", grpc.status.INVALID_ARGUMENT],
  ["crypto", grpc.status.UNAUTHENTICATED],
  ["policy", grpc.status.PERMISSION_DENIED],
  ["io", grpc.status.UNAVAILABLE],
  ["internal", grpc.status.INTERNAL],
];

function fields(e: ContrastError) {
  return { code: e.code, kind: e.kind, message: e.message, hint: e.hint };
}

describe("errors across a real grpc-js connection", () => {
  it.each(KINDS)("a %s error arrives as status %i and becomes the same ContrastError", async (kind, status) => {
    const sent = {
      code: "MANIFEST_UPDATE_UNAUTHORIZED",
      kind,
      message: "the manifest update is not signed by an owner ✘",
      hint: "Use --workload-owner-key with a key of the manifest's owners.",
    };
    const err = await probe.fail({ throw: sent });
    expect(err.code).toBe(status);
    // What a client without our mapping shows (upstream's Go CLI prints code and desc).
    expect(err.details).toBe(sent.message);
    expect(err.metadata.get(STATUS_DETAILS_KEY)).toHaveLength(1);
    const got = fromGrpcError(err);
    expect(got).toBeInstanceOf(ContrastError);
    expect(fields(got)).toEqual(sent);
    expect(got.cause).toBe(err);
  });

  it("answers with the status named for a code, and the client still restores the error", async () => {
    const sent = {
      code: "COORDINATOR_RECOVERY_MODE",
      kind: "io" as const,
      message: "in recovery mode",
      hint: "Run contrast recover.",
    };
    const err = await probe.fail({ throw: sent, status: grpc.status.FAILED_PRECONDITION });
    expect(err.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(fields(fromGrpcError(err))).toEqual(sent);
    // OK cannot replace the status of a failure.
    expect(
      toGrpcStatus(new ContrastError("X_Y", "m", { kind: "io" }), { statusByCode: { X_Y: grpc.status.OK } }).code,
    ).toBe(grpc.status.UNAVAILABLE);
  });

  it("keeps a missing hint missing", async () => {
    const got = fromGrpcError(await probe.fail({ throw: { code: "JSON_SYNTAX", kind: "input", message: "m" } }));
    expect(fields(got)).toEqual({ code: "JSON_SYNTAX", kind: "input", message: "m", hint: undefined });
  });

  it("sends a bug on the server as INTERNAL without its message", async () => {
    const err = await probe.fail({ plain: "secret at /var/lib/contrast/seed" });
    expect(err.code).toBe(grpc.status.INTERNAL);
    expect(JSON.stringify({ d: err.details, m: err.metadata.toJSON() })).not.toContain("secret");
    const got = fromGrpcError(err);
    expect(got).toMatchObject({ code: "INTERNAL", kind: "internal", message: "internal error" });
    expect(got.hint).toMatch(/server/);
  });

  it("sends a system error with the code ContrastError.from gives it", async () => {
    const got = fromGrpcError(await probe.fail({ system: "ENOENT" }));
    expect(got).toMatchObject({ code: "FILE_NOT_FOUND", kind: "io" });
    expect((got.cause as grpc.ServiceError).code).toBe(grpc.status.UNAVAILABLE);
  });

  it("turns a bare status (upstream's Go Coordinator sends these) into an API_* error", async () => {
    const got = fromGrpcError(
      await probe.fail({ bare: { code: grpc.status.PERMISSION_DENIED, details: "manifest not allowed" } }),
    );
    expect(got).toMatchObject({ code: "API_PERMISSION_DENIED", kind: "policy", message: "manifest not allowed" });
    expect(got.hint).toBeDefined();
    expect(got.details).toEqual({ grpcStatus: "PERMISSION_DENIED" });
  });

  it("falls back to the status when the details are damaged", async () => {
    const got = fromGrpcError(
      await probe.fail({ trailer: { code: grpc.status.FAILED_PRECONDITION, details: "recovery mode", hex: "0aff" } }),
    );
    expect(got).toMatchObject({ code: "API_FAILED_PRECONDITION", kind: "input", message: "recovery mode" });
    expect(got.details).toEqual({ grpcStatus: "FAILED_PRECONDITION", statusDetails: "invalid" });
  });

  it("ignores ErrorInfo of other domains", async () => {
    const info = encodeErrorInfo({ reason: "QUOTA_EXCEEDED", domain: "googleapis.com", metadata: new Map() });
    const details = encodeRpcStatus({
      code: 8,
      message: "quota",
      details: [{ typeUrl: ERROR_INFO_TYPE_URL, value: info }],
    });
    const got = fromGrpcError(
      await probe.fail({ trailer: { code: 8, details: "quota", hex: Buffer.from(details).toString("hex") } }),
    );
    expect(got).toMatchObject({ code: "API_RESOURCE_EXHAUSTED", kind: "io", message: "quota" });
  });

  it("keeps an unknown code, takes the status's kind for an unknown kind, and strips terminal escapes", async () => {
    const info = encodeErrorInfo({
      reason: "FUTURE_THING",
      domain: "contrast.edgeless.systems",
      metadata: new Map([
        ["kind", "quantum"],
        ["hint", "\u001b]0;owned\u0007Run \u202econtrast\u202c recover.\n"],
      ]),
    });
    const details = encodeRpcStatus({
      code: 7,
      message: "\u001b[31mred\u001b[0m\r\nFAKE LINE",
      details: [{ typeUrl: ERROR_INFO_TYPE_URL, value: info }],
    });
    const got = fromGrpcError(
      await probe.fail({ trailer: { code: 7, details: "x", hex: Buffer.from(details).toString("hex") } }),
    );
    expect(got.code).toBe("FUTURE_THING");
    expect(got.kind).toBe("policy"); // PERMISSION_DENIED's kind
    expect(got.message).toBe("[31mred [0m FAKE LINE");
    expect(got.hint).toBe("]0;owned Run  contrast  recover.");
  });

  it("replaces a malformed code with the status's API_* code", async () => {
    const info = encodeErrorInfo({ reason: "not-a-code", domain: "contrast.edgeless.systems", metadata: new Map() });
    const details = encodeRpcStatus({
      code: 3,
      message: "m",
      details: [{ typeUrl: ERROR_INFO_TYPE_URL, value: info }],
    });
    const got = fromGrpcError(
      await probe.fail({ trailer: { code: 3, details: "m", hex: Buffer.from(details).toString("hex") } }),
    );
    expect(got).toMatchObject({ code: "API_INVALID_ARGUMENT", kind: "input", message: "m" });
  });

  it("reports a server that is not there as API_UNAVAILABLE", async () => {
    const nowhere = `unix://${join(scratchDir("contrast-api-none-"), "none.sock")}`;
    const got = fromGrpcError(await callAt(nowhere, { hang: true }));
    expect(got).toMatchObject({ code: "API_UNAVAILABLE", kind: "io" });
  });

  it("reports a passed deadline as API_DEADLINE_EXCEEDED", async () => {
    const got = fromGrpcError(await probe.fail({ hang: true }, { deadlineMs: 200 }));
    expect(got).toMatchObject({ code: "API_DEADLINE_EXCEEDED", kind: "io" });
  });

  it("round-trips any error over the connection (property)", async () => {
    await fc.assert(
      fc.asyncProperty(sentError(), async (sent) => {
        const got = fromGrpcError(await probe.fail({ throw: sent }));
        expect(fields(got)).toEqual({ ...sent, hint: sent.hint });
      }),
      { numRuns: fuzzRuns(40) },
    );
  });
});

describe("the mapping without a connection", () => {
  it("gives each kind its status", () => {
    for (const [kind, status] of KINDS) {
      expect(grpcStatusOfKind(kind)).toBe(status);
      expect(toGrpcStatus(new ContrastError("X", "m", { kind })).code).toBe(status);
    }
  });

  it("passes ContrastErrors through and converts other thrown values", () => {
    const e = new ContrastError("X_Y", "m");
    expect(fromGrpcError(e)).toBe(e);
    expect(fromGrpcError("boom")).toMatchObject({ code: "INTERNAL" });
    expect(fromGrpcError(new Error("no status"))).toMatchObject({ code: "INTERNAL" });
    expect(fromGrpcError({ code: 99, details: "from the future" })).toMatchObject({
      code: "API_UNKNOWN",
      message: "from the future",
    });
  });

  it("round-trips any error through status and trailer (property)", () => {
    fc.assert(
      fc.property(sentError(), (sent) => {
        const { code, details, metadata } = toGrpcStatus(new ContrastError(sent.code, sent.message, sent));
        const got = fromGrpcError(Object.assign(new Error(details), { code, details, metadata }));
        expect(fields(got)).toEqual({ ...sent, hint: sent.hint });
      }),
      { numRuns: fuzzRuns(300) },
    );
  });

  it("always yields a well-formed ContrastError from any status, message and trailer (fuzz)", () => {
    const trailer = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      sentError().map((sent) => {
        const bin = toGrpcStatus(new ContrastError(sent.code, sent.message, sent)).metadata.get(STATUS_DETAILS_KEY)[0];
        return Uint8Array.from(bin as Buffer);
      }),
    );
    const mutate = fc.tuple(trailer, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([bytes, at, value]) => {
      const copy = Uint8Array.from(bytes);
      if (copy.length > 0) copy[at % copy.length] = value;
      return copy;
    });
    fc.assert(
      fc.property(fc.integer({ min: -5, max: 40 }), fc.string(), fc.option(mutate), (code, details, bytes) => {
        const metadata = new grpc.Metadata();
        if (bytes !== null) metadata.set(STATUS_DETAILS_KEY, Buffer.from(bytes));
        const got = fromGrpcError(Object.assign(new Error(details), { code, details, metadata }));
        expect(got).toBeInstanceOf(ContrastError);
        expect(got.code).toMatch(/^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/);
        expect(["input", "crypto", "policy", "io", "internal"]).toContain(got.kind);
        expect(got.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
        expect(got.message.length).toBeGreaterThan(0);
      }),
      { numRuns: fuzzRuns(500) },
    );
  });
});

/** A ContrastError as a server sends it: a valid code, a kind, a printable message, maybe a hint. */
function sentError(): fc.Arbitrary<Throw> {
  const printable = fc
    .string({ unit: "grapheme", minLength: 1, maxLength: 200 })
    .filter((s) => s === s.trim() && !/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(s) && s.length > 0);
  return fc.record(
    {
      code: fc.stringMatching(/^[A-Z][A-Z0-9]{0,8}(_[A-Z0-9]{1,8}){0,4}$/),
      kind: fc.constantFrom<ErrorKind>("input", "crypto", "policy", "io", "internal"),
      message: printable,
      hint: printable,
    },
    { requiredKeys: ["code", "kind", "message"] },
  );
}
