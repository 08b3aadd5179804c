import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { fromBase64, toBase64, toHex, utf8 } from "@contrast/core";
import { testdataPath } from "@contrast/testkit";
import { load } from "js-yaml";
import { describe, expect, it } from "vitest";
import {
  decodeInitdataAnnotation,
  encodeInitdataAnnotation,
  INITDATA_ANNOTATION,
  initdataLaunchField,
  initdataPolicy,
  initdataPolicyHash,
  initdataToml,
  PolicyError,
  parseInitdata,
  policyInitdata,
} from "../src/index.js";
import { gunzipSingleMember } from "../src/initdata/gzip.js";
import { type InitdataAlgorithm, initdataDigest } from "../src/initdata.js";

const TESTDATA = testdataPath();

/** The value of the initdata annotation of the first document of a YAML file. */
function annotationOf(path: string): string {
  const doc = load(readFileSync(path, "utf8").replace(/^---\n/, "")) as {
    metadata: { annotations: Record<string, string> };
  };
  const value = doc.metadata.annotations[INITDATA_ANNOTATION];
  if (value === undefined) throw new Error(`${path}: no initdata annotation`);
  return value;
}

function openssl(algorithm: InitdataAlgorithm, input: Uint8Array): string {
  return execFileSync("openssl", ["dgst", `-${algorithm}`, "-r"], { input })
    .toString()
    .split(" ")[0] as string;
}

/** `gzip -dc` of an annotation value: the system's gzip, not ours. */
function systemGunzip(annotation: string): Buffer {
  return execFileSync("gzip", ["-dc"], { input: Buffer.from(annotation, "base64") });
}

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    if (!(e instanceof PolicyError)) throw e;
    return e.code;
  }
}

const POLICY = "package agent_policy\n\ndefault CreateContainerRequest := false\n";

describe("initdata known answers from upstream", () => {
  it("decodes Kata's runtime test vector to its TOML and the digest Kata's shim computes", () => {
    const v = JSON.parse(readFileSync(join(TESTDATA, "initdata/kata-runtime-vector.json"), "utf8")) as {
      annotation: string;
      toml: string;
      digest: string;
    };
    const doc = decodeInitdataAnnotation(v.annotation);
    expect(doc.toml).toBe(v.toml);
    expect([...doc.data.keys()]).toEqual(["aa.toml", "cdh.toml", "policy.rego"]);
    expect(initdataPolicy(doc)).toBe("");
    expect(toHex(initdataDigest(doc))).toBe(v.digest);
    expect(initdataPolicyHash(doc)).toBe(v.digest);
    // SNP HOST_DATA holds the 32 bytes; TDX MRCONFIGID has 16 zero bytes after them.
    expect(toHex(initdataLaunchField(doc, "snp"))).toBe(v.digest);
    expect(toHex(initdataLaunchField(doc, "tdx"))).toBe(`${v.digest}${"00".repeat(16)}`);
  });

  it("writes byte for byte the TOML genpolicy (Kata HEAD) wrote for the same policy, so the hash agrees", () => {
    const annotation = annotationOf(join(TESTDATA, "genpolicy/kata-tests/createcontainer/gpu_vfio_cdi/pod.yaml"));
    const theirs = decodeInitdataAnnotation(annotation);
    expect(Buffer.from(theirs.bytes).equals(systemGunzip(annotation))).toBe(true);
    const ours = policyInitdata(initdataPolicy(theirs));
    expect(ours.toml).toBe(theirs.toml);
    expect(initdataPolicyHash(ours)).toBe(openssl("sha256", systemGunzip(annotation)));
    expect(initdataPolicyHash(ours)).toBe("75cf83f153ffdf957fd556dc6a5b28e968c7739fe93e1fa77272cdb1fdf038e3");
  });

  it("reads an older genpolicy's TOML (double-quoted values): same policy, other bytes, other hash", () => {
    const annotation = annotationOf(join(TESTDATA, "initdata/genpolicy-samples/pod-one-container.yaml"));
    const older = decodeInitdataAnnotation(annotation);
    expect(older.toml.startsWith('version = "0.1.0"\nalgorithm = "sha256"\n')).toBe(true);
    expect(initdataPolicy(older)).toMatch(/^# Copyright/);
    expect(initdataPolicyHash(older)).toBe(openssl("sha256", systemGunzip(annotation)));
    // The hash is over the bytes as sent: the same policy in today's layout hashes differently.
    const today = policyInitdata(initdataPolicy(older));
    expect(today.toml).not.toBe(older.toml);
    expect(initdataPolicyHash(today)).not.toBe(initdataPolicyHash(older));
  });
});

describe("initdata documents", () => {
  it("are written as genpolicy writes them and read back, for every algorithm", () => {
    for (const algorithm of ["sha256", "sha384", "sha512"] as const) {
      const doc = policyInitdata(POLICY, { algorithm, data: { "aa.toml": "[token_configs]\n", plain: "x" } });
      expect(doc.toml).toBe(
        `version = '0.1.0'\nalgorithm = '${algorithm}'\n\n[data]\n"aa.toml" = '''\n[token_configs]\n'''\nplain = 'x'\n"policy.rego" = '''\n${POLICY}'''\n`,
      );
      const annotation = encodeInitdataAnnotation(doc.bytes);
      expect(Buffer.from(systemGunzip(annotation)).toString("utf8")).toBe(doc.toml);
      const back = decodeInitdataAnnotation(annotation);
      expect(back.toml).toBe(doc.toml);
      expect(initdataPolicy(back)).toBe(POLICY);
      expect(toHex(initdataDigest(back))).toBe(openssl(algorithm, doc.bytes));
    }
  });

  it("put the digest into the launch fields as Kata's shim does: zero-padded or cut to 32 (SNP) and 48 (TDX) bytes", () => {
    const d384 = policyInitdata(POLICY, { algorithm: "sha384" });
    const full384 = openssl("sha384", d384.bytes);
    expect(toHex(initdataLaunchField(d384, "snp"))).toBe(full384.slice(0, 64));
    expect(toHex(initdataLaunchField(d384, "tdx"))).toBe(full384);
    const d512 = policyInitdata(POLICY, { algorithm: "sha512" });
    expect(toHex(initdataLaunchField(d512, "tdx"))).toBe(openssl("sha512", d512.bytes).slice(0, 96));
    // Contrast's manifest names workloads by 32-byte hashes only.
    expect(codeOf(() => initdataPolicyHash(d384))).toBe("POLICY_INITDATA_ALGORITHM");
  });

  it("encode the same document to the same annotation, with no name, time or OS in the gzip header", () => {
    const a = encodeInitdataAnnotation(policyInitdata(POLICY).bytes);
    expect(encodeInitdataAnnotation(policyInitdata(POLICY).bytes)).toBe(a);
    const header = fromBase64(a).subarray(0, 10);
    expect(toHex(header)).toBe("1f8b08000000000002ff");
  });

  it("keep policies that a literal string cannot hold, escaped in a basic string", () => {
    for (const policy of ["a'''b\n", "ends with a quote'\n", "crlf\r\nline\n", "bell\u0007\n", 'tab\tand \\ and "\n']) {
      const doc = policyInitdata(policy);
      expect(initdataPolicy(decodeInitdataAnnotation(encodeInitdataAnnotation(doc.bytes)))).toBe(policy);
    }
    expect(policyInitdata("crlf\r\n").toml).toContain('"policy.rego" = "crlf\\r\\n"');
  });
});

describe("tampered and garbled initdata annotations", () => {
  const good = policyInitdata(POLICY);
  const gz = fromBase64(encodeInitdataAnnotation(good.bytes));
  const annotationOfToml = (toml: string) => toBase64(gzipSync(Buffer.from(toml)));
  const head = "version = '0.1.0'\nalgorithm = 'sha256'\n";

  it("name what is wrong with the transport: base64, gzip, size", () => {
    const cases: [string, string][] = [
      ["%%% not base64", "POLICY_INITDATA_ENCODING"],
      [toBase64(utf8(good.toml)), "POLICY_INITDATA_ENCODING"], // not gzipped
      [toBase64(gz.subarray(0, gz.length - 4)), "POLICY_INITDATA_ENCODING"], // truncated trailer
      [toBase64(gz.subarray(0, 30)), "POLICY_INITDATA_ENCODING"], // truncated deflate stream
      [toBase64(Buffer.concat([gz, Buffer.from("junk")])), "POLICY_INITDATA_ENCODING"],
      [toBase64(Buffer.concat([gz, gz])), "POLICY_INITDATA_ENCODING"], // a second member
      [toBase64(gzipSync(Buffer.from([0xff, 0xfe, 0x00]))), "POLICY_INITDATA_ENCODING"], // not UTF-8
    ];
    const flipped = new Uint8Array(gz);
    flipped[gz.length - 5] = (flipped[gz.length - 5] as number) ^ 1; // the CRC
    cases.push([toBase64(flipped), "POLICY_INITDATA_ENCODING"]);
    for (const [value, code] of cases)
      expect(
        codeOf(() => decodeInitdataAnnotation(value)),
        value.slice(0, 40),
      ).toBe(code);
    // Line breaks are skipped, as the shim's base64 reader skips them.
    const wrapped = toBase64(gz).replace(/(.{60})/g, "$1\n");
    expect(decodeInitdataAnnotation(wrapped).toml).toBe(good.toml);
    const bomb = toBase64(gzipSync(Buffer.alloc(2 * 1024 * 1024, 0x20)));
    expect(codeOf(() => decodeInitdataAnnotation(bomb, { maxBytes: 1024 * 1024 }))).toBe("POLICY_INITDATA_TOO_LARGE");
  });

  it("name what is wrong with the document: version, algorithm, structure, TOML", () => {
    const cases: [string, string][] = [
      ["version = '0.2.0'\nalgorithm = 'sha256'\n[data]\n", "POLICY_INITDATA_VERSION"],
      ["version = '0.1.0'\nalgorithm = 'sha-256'\n[data]\n", "POLICY_INITDATA_ALGORITHM"],
      ["version = '0.1.0'\nalgorithm = 'md5'\n[data]\n", "POLICY_INITDATA_ALGORITHM"],
      [head, "POLICY_INITDATA_INVALID"], // no [data]
      ["algorithm = 'sha256'\n[data]\n", "POLICY_INITDATA_INVALID"],
      [`${head}extra = 'x'\n[data]\n`, "POLICY_INITDATA_INVALID"],
      [`${head}[data]\n[other]\n`, "POLICY_INITDATA_INVALID"],
      [`${head}[data]\n"policy.rego" = 'a'\n"policy.rego" = 'b'\n`, "POLICY_INITDATA_SYNTAX"],
      [`${head}[data]\n[data]\n`, "POLICY_INITDATA_SYNTAX"],
      [`${head}[data]\ndata.x = 'a'\n`, "POLICY_INITDATA_SYNTAX"],
      [`${head}data = { x = 'a' }\n`, "POLICY_INITDATA_SYNTAX"],
      [`${head}[data]\nx = 1\n`, "POLICY_INITDATA_SYNTAX"],
      [`${head}[data]\nx = ['a']\n`, "POLICY_INITDATA_SYNTAX"],
      [`${head}[[data]]\n`, "POLICY_INITDATA_SYNTAX"],
      [`${head}[data]\nx = "\\e"\n`, "POLICY_INITDATA_SYNTAX"], // TOML 1.1 escape
      [`${head}[data]\nx = "\\uD800"\n`, "POLICY_INITDATA_SYNTAX"],
      [`${head}[data]\nx = '''\r\na'''\n`, "POLICY_INITDATA_SYNTAX"],
      [`${head}[data]\nx = 'a' y = 'b'\n`, "POLICY_INITDATA_SYNTAX"],
      [`\ufeff${head}[data]\n`, "POLICY_INITDATA_SYNTAX"],
      [`${head}[data]\nx = 'a\u0000'\n`, "POLICY_INITDATA_SYNTAX"],
    ];
    for (const [toml, code] of cases)
      expect(
        codeOf(() => decodeInitdataAnnotation(annotationOfToml(toml))),
        toml,
      ).toBe(code);
    const noPolicy = decodeInitdataAnnotation(annotationOfToml(`${head}[data]\n"aa.toml" = ''\n`));
    expect(codeOf(() => initdataPolicy(noPolicy))).toBe("POLICY_INITDATA_NO_POLICY");
  });

  it("say where a TOML error is", () => {
    try {
      parseInitdata(utf8(`${head}[data]\n"policy.rego" = 'unterminated\n`), "pod.yaml: Pod/p");
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(PolicyError);
      expect((e as PolicyError).message).toMatch(/^pod\.yaml: Pod\/p:4:\d+: unterminated string/);
    }
  });

  it("change the hash when one byte of the policy changes, though the document stays valid", () => {
    const tampered = good.toml.replace(
      "default CreateContainerRequest := false",
      "default CreateContainerRequest := true ",
    );
    const doc = decodeInitdataAnnotation(annotationOfToml(tampered));
    expect(doc.bytes.length).toBe(good.bytes.length + 0); // same length, other content
    expect(initdataPolicyHash(doc)).not.toBe(initdataPolicyHash(good));
    expect(initdataPolicyHash(doc)).toBe(openssl("sha256", doc.bytes));
  });

  it("refuse reserved gzip header flags and a bad header CRC", () => {
    const reserved = new Uint8Array(gz);
    reserved[3] = 0x20;
    expect(codeOf(() => gunzipSingleMember(reserved))).toBe("POLICY_INITDATA_ENCODING");
    // FHCRC with a wrong CRC16 of the header.
    const withHcrc = Buffer.concat([
      Buffer.from(gz.subarray(0, 10)),
      Buffer.from([0, 0]),
      Buffer.from(gz.subarray(10)),
    ]);
    withHcrc[3] = 0x02;
    expect(codeOf(() => gunzipSingleMember(withHcrc))).toBe("POLICY_INITDATA_ENCODING");
  });
});

describe("initdataToml", () => {
  it("sorts the entries and quotes keys that are not bare", () => {
    expect(initdataToml({ b: "2", "a.b": "1", A: "0" })).toBe(
      "version = '0.1.0'\nalgorithm = 'sha256'\n\n[data]\nA = '0'\n\"a.b\" = '1'\nb = '2'\n",
    );
    expect(codeOf(() => initdataToml({}, "sha1" as InitdataAlgorithm))).toBe("POLICY_INITDATA_ALGORITHM");
    expect(codeOf(() => policyInitdata(POLICY, { data: { "policy.rego": "x" } }))).toBe("POLICY_INITDATA_INVALID");
  });
});
