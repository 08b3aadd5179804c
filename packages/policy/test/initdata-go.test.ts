import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { fromBase64, toBase64, toHex } from "@contrast/core";
import { testdataPath } from "@contrast/testkit";
import { describe, expect, it } from "vitest";
import {
  decodeInitdataAnnotation,
  encodeInitdataAnnotation,
  initdataLaunchField,
  PolicyError,
  policyInitdata,
} from "../src/index.js";
import { type InitdataAlgorithm, initdataDigest } from "../src/initdata.js";

/**
 * The Kata shim is Go: it reads the annotation through Go's base64 and gzip readers and hashes
 * what comes out. test/go/initdata-shim.go does the same with Go's standard library; this test
 * checks that it gets our documents, digests and launch fields, and shows where our stricter
 * reader refuses what Go would read. `.ci/run` installs golang-go; the program runs offline.
 */
const SHIM = new URL("./go/initdata-shim.go", import.meta.url).pathname;
const TESTDATA = testdataPath();

interface GoResult {
  readonly ok: boolean;
  readonly error?: string;
  readonly toml?: string;
  readonly digest?: string;
  readonly snp?: string;
  readonly tdx?: string;
}

function goShim(inputs: readonly { annotation: string; algorithm: string }[]): GoResult[] {
  const env: NodeJS.ProcessEnv = { ...process.env, GOPROXY: "off" };
  if (env.HOME === undefined) env.GOCACHE = join(mkdtempSync(join(tmpdir(), "initdata-go-")), "cache");
  const out = execFileSync("go", ["run", SHIM], { env, input: JSON.stringify(inputs), timeout: 300_000 });
  return JSON.parse(out.toString("utf8")) as GoResult[];
}

const POLICY = "package agent_policy\n\ndefault CreateContainerRequest := true\n";

describe("initdata read as the Kata shim reads it (Go's standard library)", () => {
  it("gives the same document, digest, HOST_DATA and MRCONFIGID for what we write and for Kata's vector", () => {
    const algorithms: InitdataAlgorithm[] = ["sha256", "sha384", "sha512"];
    const docs = algorithms.map((algorithm) => policyInitdata(POLICY, { algorithm, data: { "aa.toml": "x = 'y'\n" } }));
    const kata = JSON.parse(readFileSync(join(TESTDATA, "initdata/kata-runtime-vector.json"), "utf8")) as {
      annotation: string;
    };
    const inputs = [
      ...docs.map((d) => ({ annotation: encodeInitdataAnnotation(d.bytes), algorithm: d.algorithm })),
      { annotation: kata.annotation, algorithm: "sha256" },
    ];
    const go = goShim(inputs);
    inputs.forEach((input, i) => {
      const ours = decodeInitdataAnnotation(input.annotation);
      expect(go[i], input.algorithm).toEqual({
        ok: true,
        toml: ours.toml,
        digest: toHex(initdataDigest(ours)),
        snp: toHex(initdataLaunchField(ours, "snp")),
        tdx: toHex(initdataLaunchField(ours, "tdx")),
      });
    });
  });

  it("agrees that trailing bytes are an error, and shows why a second gzip member is refused", () => {
    const doc = policyInitdata(POLICY);
    const gz = fromBase64(encodeInitdataAnnotation(doc.bytes));
    const trailing = toBase64(Buffer.concat([gz, Buffer.from("not gzip")]));
    const other = policyInitdata("package agent_policy\n\ndefault CreateContainerRequest := false\n");
    const twoMembers = toBase64(Buffer.concat([gz, gzipSync(Buffer.from(`\n${other.toml}`))]));
    const [t, two] = goShim([
      { annotation: trailing, algorithm: "sha256" },
      { annotation: twoMembers, algorithm: "sha256" },
    ]);
    expect(t?.ok).toBe(false);
    expect(() => decodeInitdataAnnotation(trailing)).toThrow(PolicyError);
    // Go reads both members as one document; a reader that stops after the first (runtime-rs)
    // would see another one. We refuse the value rather than pick one.
    expect(two?.ok).toBe(true);
    expect(two?.toml).toBe(`${doc.toml}\n${other.toml}`);
    expect(() => decodeInitdataAnnotation(twoMembers)).toThrow(
      expect.objectContaining({ code: "POLICY_INITDATA_ENCODING" }),
    );
  });
});
