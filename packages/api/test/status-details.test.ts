import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { utf8 } from "@contrast/core";
import { expectCode, fuzzRuns } from "@contrast/testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeErrorInfo,
  decodeRpcStatus,
  ERROR_INFO_TYPE_URL,
  encodeErrorInfo,
  encodeRpcStatus,
  MAX_STATUS_DETAILS_BYTES,
  type RpcStatus,
} from "../src/status-details.js";

const PROTO = join(dirname(fileURLToPath(import.meta.url)), "../proto");
const SCHEMAS = ["google/rpc/status.proto", "google/rpc/error_details.proto"];

/** protoc, a third-party implementation, reads and writes the same messages from the schemas. */
function protoc(mode: "encode" | "decode", message: string, input: Uint8Array | string): Buffer {
  return execFileSync("protoc", [`-I${PROTO}`, `--${mode}=${message}`, ...SCHEMAS], { input, maxBuffer: 1 << 20 });
}

function sampleStatus(): RpcStatus {
  const info = encodeErrorInfo({
    reason: "MANIFEST_UPDATE_UNAUTHORIZED",
    domain: "contrast.edgeless.systems",
    metadata: new Map([
      ["kind", "policy"],
      ["hint", "Use --workload-owner-key with a key of the manifest's owners. ✔"],
    ]),
  });
  return {
    code: 7,
    message: "the manifest update is not signed by an owner",
    details: [{ typeUrl: ERROR_INFO_TYPE_URL, value: info }],
  };
}

describe("google.rpc.Status with ErrorInfo", () => {
  it("writes the bytes protoc writes for the same message", () => {
    const ours = encodeRpcStatus(sampleStatus());
    const text = [
      "code: 7",
      'message: "the manifest update is not signed by an owner"',
      "details {",
      "  [type.googleapis.com/google.rpc.ErrorInfo] {",
      '    reason: "MANIFEST_UPDATE_UNAUTHORIZED"',
      '    domain: "contrast.edgeless.systems"',
      // Our map entries are sorted by key; protoc keeps the order of the text.
      '    metadata { key: "hint" value: "Use --workload-owner-key with a key of the manifest\'s owners. \\342\\234\\224" }',
      '    metadata { key: "kind" value: "policy" }',
      "  }",
      "}",
    ].join("\n");
    expect(Buffer.from(ours).toString("hex")).toBe(protoc("encode", "google.rpc.Status", text).toString("hex"));
  });

  it("is read by protoc: the Status, and the ErrorInfo inside its Any", () => {
    const status = sampleStatus();
    const text = protoc("decode", "google.rpc.Status", encodeRpcStatus(status)).toString("utf8");
    expect(text).toContain("code: 7\n");
    expect(text).toContain('type_url: "type.googleapis.com/google.rpc.ErrorInfo"');
    const info = protoc("decode", "google.rpc.ErrorInfo", status.details[0]?.value ?? new Uint8Array()).toString(
      "utf8",
    );
    expect(info).toContain('reason: "MANIFEST_UPDATE_UNAUTHORIZED"');
    expect(info).toContain('domain: "contrast.edgeless.systems"');
    expect(info).toMatch(/metadata \{\n\s+key: "kind"\n\s+value: "policy"\n/);
  });

  it("reads what protoc writes, unknown fields included", () => {
    const text = [
      "code: 16",
      'message: "bad evidence"',
      'details { type_url: "type.googleapis.com/google.rpc.DebugInfo" value: "\\n\\001x" }',
      "details {",
      '  [type.googleapis.com/google.rpc.ErrorInfo] { reason: "SNP_SIGNATURE_INVALID" domain: "d" metadata { key: "kind" value: "crypto" } }',
      "}",
    ].join("\n");
    const bytes = protoc("encode", "google.rpc.Status", text);
    // An unknown field (number 9, a varint) appended: a reader must skip it.
    const withUnknown = Buffer.concat([bytes, Buffer.from([0x48, 0x01])]);
    const status = decodeRpcStatus(withUnknown);
    expect(status.code).toBe(16);
    expect(status.message).toBe("bad evidence");
    expect(status.details.map((d) => d.typeUrl)).toEqual([
      "type.googleapis.com/google.rpc.DebugInfo",
      ERROR_INFO_TYPE_URL,
    ]);
    const info = decodeErrorInfo(status.details[1]?.value ?? new Uint8Array());
    expect(info).toEqual({ reason: "SNP_SIGNATURE_INVALID", domain: "d", metadata: new Map([["kind", "crypto"]]) });
  });

  it("reads negative status codes as protobuf writes int32 (ten-byte varints)", () => {
    const bytes = protoc("encode", "google.rpc.Status", "code: -5");
    expect(bytes.length).toBe(11);
    expect(decodeRpcStatus(bytes).code).toBe(-5);
    expect(Buffer.from(encodeRpcStatus({ code: -5, message: "", details: [] }))).toEqual(bytes);
  });

  it("rejects damaged details with API_STATUS_DETAILS_INVALID", () => {
    const good = encodeRpcStatus(sampleStatus());
    expectCode(() => decodeRpcStatus(good.subarray(0, good.length - 3)), "API_STATUS_DETAILS_INVALID", "input");
    expectCode(() => decodeRpcStatus(Uint8Array.of(0x12, 0x02, 0xc3, 0x28)), "API_STATUS_DETAILS_INVALID"); // bad UTF-8
    expectCode(() => decodeRpcStatus(Uint8Array.of(0x0b, 0x0c)), "API_STATUS_DETAILS_INVALID"); // a group
    expectCode(() => decodeRpcStatus(Uint8Array.of(0x00)), "API_STATUS_DETAILS_INVALID"); // field 0
    expectCode(() => decodeRpcStatus(Uint8Array.of(0x08, 0xff)), "API_STATUS_DETAILS_INVALID"); // cut varint
    expectCode(() => decodeRpcStatus(new Uint8Array(MAX_STATUS_DETAILS_BYTES + 1)), "API_STATUS_DETAILS_INVALID");
    const badEntry = encodeRpcStatus({
      code: 3,
      message: "",
      details: [{ typeUrl: ERROR_INFO_TYPE_URL, value: Uint8Array.of(0x1a, 0x03, 0x0a, 0x05, 0x61) }],
    });
    const any = decodeRpcStatus(badEntry).details[0]?.value ?? new Uint8Array();
    expectCode(() => decodeErrorInfo(any), "API_STATUS_DETAILS_INVALID");
  });

  it("round-trips any status and error info (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        fc.string({ unit: "grapheme" }),
        fc.string({ unit: "grapheme" }),
        fc.string({ unit: "grapheme" }),
        fc.dictionary(fc.string({ unit: "grapheme" }), fc.string({ unit: "grapheme" }), { maxKeys: 5 }),
        (code, message, reason, domain, meta) => {
          const metadata = new Map(Object.entries(meta));
          const info = encodeErrorInfo({ reason, domain, metadata });
          const status = { code, message, details: [{ typeUrl: ERROR_INFO_TYPE_URL, value: info }] };
          const back = decodeRpcStatus(encodeRpcStatus(status));
          expect(back.code).toBe(code);
          expect(back.message).toBe(message);
          expect(back.details[0]?.typeUrl).toBe(ERROR_INFO_TYPE_URL);
          expect(decodeErrorInfo(back.details[0]?.value ?? new Uint8Array())).toEqual({ reason, domain, metadata });
        },
      ),
      { numRuns: fuzzRuns(200) },
    );
  });

  it("either decodes or throws API_STATUS_DETAILS_INVALID on any bytes (fuzz)", () => {
    const good = encodeRpcStatus(sampleStatus());
    const mutated = fc
      .array(fc.tuple(fc.nat({ max: good.length - 1 }), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 4,
      })
      .map((edits) => {
        const copy = Uint8Array.from(good);
        for (const [at, value] of edits) copy[at] = value;
        return copy;
      });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 256 }), mutated, fc.constant(utf8(""))), (bytes) => {
        try {
          const status = decodeRpcStatus(bytes);
          for (const any of status.details) {
            if (any.typeUrl === ERROR_INFO_TYPE_URL) decodeErrorInfo(any.value);
          }
        } catch (e) {
          expect((e as { code?: unknown }).code).toBe("API_STATUS_DETAILS_INVALID");
        }
      }),
      { numRuns: fuzzRuns(500) },
    );
  });
});
