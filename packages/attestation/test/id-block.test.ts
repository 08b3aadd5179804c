import { execFileSync } from "node:child_process";
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeDer, fixedClock, toHex } from "@contrast/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EvidenceError } from "../src/errors.js";
import { createSimulatedAuthority } from "../src/sim/tee.js";
import {
  CONTRAST_ID_SIGNATURE,
  contrastIdBlock,
  encodeGuestPolicy,
  isOnP384,
  type P384Point,
  recoverP384PublicKeys,
} from "../src/snp/id-block.js";
import { decodeGuestPolicy, parseSnpReport } from "../src/snp/report.js";
import { contrastIdKeyDigest, snpMismatches } from "../src/snp/validate.js";
import { verifySnpReport } from "../src/snp/verify.js";
import { FUZZ_RUNS } from "./vectors.js";

const sha384 = (b: Uint8Array) => new Uint8Array(createHash("sha384").update(b).digest());
const b64u = (n: bigint) => Buffer.from(n.toString(16).padStart(96, "0"), "hex").toString("base64url");
const keyOf = (q: P384Point): KeyObject =>
  createPublicKey({ key: { kty: "EC", crv: "P-384", x: b64u(q.x), y: b64u(q.y) }, format: "jwk" });
const pointOf = (k: KeyObject): P384Point => {
  const jwk = k.export({ format: "jwk" });
  return {
    x: BigInt(`0x${Buffer.from(jwk.x as string, "base64url").toString("hex")}`),
    y: BigInt(`0x${Buffer.from(jwk.y as string, "base64url").toString("hex")}`),
  };
};
const derInt = (n: bigint) => {
  const hex = n.toString(16);
  const bytes = Buffer.from(hex.length % 2 ? `0${hex}` : hex, "hex");
  return encodeDer(0x02, (bytes[0] as number) & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
};
const derSignature = (r: bigint, s: bigint) => encodeDer(0x30, Buffer.concat([derInt(r), derInt(s)]));

const CONTRAST_POLICY = decodeGuestPolicy(0x30000n); // SMT allowed, ABI 0.0: the v1.5 default
const measurement = Uint8Array.from({ length: 48 }, (_, i) => i + 1);

describe("SEC 1 public-key recovery on P-384", () => {
  it("recovers the signer among the two candidates of a real signature (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 64 }), (message) => {
        const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-384" });
        const sig = sign("sha384", message, { key: privateKey, dsaEncoding: "ieee-p1363" });
        const r = BigInt(`0x${sig.subarray(0, 48).toString("hex")}`);
        const s = BigInt(`0x${sig.subarray(48).toString("hex")}`);
        const keys = recoverP384PublicKeys(r, s, sha384(message));
        const want = pointOf(publicKey);
        expect(keys.some((k) => k.x === want.x && k.y === want.y)).toBe(true);
        for (const k of keys) expect(isOnP384(k)).toBe(true);
      }),
      { numRuns: Math.min(FUZZ_RUNS, 50) }, // each run costs two BigInt scalar multiplications
    );
  });

  it("rejects r or s outside [1, n-1] and an r that is no x-coordinate, with typed errors", () => {
    const digest = new Uint8Array(48);
    for (const [r, s] of [
      [0n, 1n],
      [2n, 0n],
      [1n << 384n, 1n],
    ] as const) {
      expect(() => recoverP384PublicKeys(r, s, digest)).toThrow(EvidenceError);
    }
    // About half of all x have no point; find one deterministically.
    let r = 3n;
    while (true) {
      try {
        recoverP384PublicKeys(r, 1n, digest);
        r++;
      } catch (e) {
        expect((e as EvidenceError).code).toBe("SNP_ID_KEY_RECOVERY_FAILED");
        break;
      }
    }
  });
});

describe("Contrast's deterministic ID block", () => {
  const id = contrastIdBlock({ launchDigest: measurement, policy: encodeGuestPolicy(CONTRAST_POLICY) });

  it("lays out the ID block as the firmware ABI does", () => {
    expect(id.idBlock.length).toBe(0x60);
    expect(toHex(id.idBlock.subarray(0, 0x30))).toBe(toHex(measurement));
    expect(toHex(id.idBlock.subarray(0x30, 0x50))).toBe("00".repeat(32)); // family and image IDs
    expect(toHex(id.idBlock.subarray(0x50, 0x60))).toBe("01000000" + "02000000" + "0000030000000000");
  });

  it("signs the ID block with r = 2, s = 1 under the recovered key (checked by node:crypto and openssl)", () => {
    const { r, s } = CONTRAST_ID_SIGNATURE;
    const keys = recoverP384PublicKeys(r, s, sha384(id.idBlock));
    expect(keys).toHaveLength(2);
    expect(keys[0]).toEqual(id.idKey);
    const [a, b] = keys as [P384Point, P384Point];
    expect(a.x < b.x || (a.x === b.x && a.y < b.y)).toBe(true);
    const sig = derSignature(r, s);
    for (const k of keys) expect(verify("sha384", id.idBlock, keyOf(k), sig)).toBe(true);
    expect(verify("sha384", Uint8Array.from(id.idBlock).fill(9, 0, 1), keyOf(id.idKey), sig)).toBe(false);

    const dir = mkdtempSync(join(tmpdir(), "idblock-"));
    writeFileSync(join(dir, "block.bin"), id.idBlock);
    writeFileSync(join(dir, "sig.der"), sig);
    writeFileSync(join(dir, "key.pem"), keyOf(id.idKey).export({ format: "pem", type: "spki" }));
    const out = execFileSync(
      "openssl",
      ["dgst", "-sha384", "-verify", join(dir, "key.pem"), "-signature", join(dir, "sig.der"), join(dir, "block.bin")],
      { encoding: "utf8" },
    );
    expect(out.trim()).toBe("Verified OK");
  });

  it("writes the ID authentication structure with little-endian signature and key", () => {
    const a = id.idAuth;
    expect(a.length).toBe(0x1000);
    expect(toHex(a.subarray(0, 8))).toBe("0100000001000000");
    expect(a[0x40]).toBe(2); // r, little-endian
    expect(a[0x88]).toBe(1); // s
    expect(a.subarray(0x41, 0x88).every((x) => x === 0)).toBe(true);
    expect(toHex(a.subarray(0x240, 0x244))).toBe("02000000"); // curve P-384
    const qx = BigInt(
      `0x${Buffer.from(a.subarray(0x244, 0x244 + 48))
        .reverse()
        .toString("hex")}`,
    );
    const qy = BigInt(
      `0x${Buffer.from(a.subarray(0x28c, 0x28c + 48))
        .reverse()
        .toString("hex")}`,
    );
    expect({ x: qx, y: qy }).toEqual(id.idKey);
    expect(a.subarray(0x644).every((x) => x === 0)).toBe(true);
    expect(toHex(id.idKeyDigest)).toBe(toHex(sha384(a.subarray(0x240, 0x644))));
  });

  it("is deterministic, and every input bit changes the digest (property)", () => {
    expect(toHex(contrastIdKeyDigest(measurement, CONTRAST_POLICY))).toBe(toHex(id.idKeyDigest));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 48 * 8 - 1 }), (bit) => {
        const m = Uint8Array.from(measurement);
        m[bit >> 3] = (m[bit >> 3] as number) ^ (1 << (bit & 7));
        expect(toHex(contrastIdKeyDigest(m, CONTRAST_POLICY))).not.toBe(toHex(id.idKeyDigest));
      }),
      { numRuns: Math.min(FUZZ_RUNS, 20) },
    );
    const debug = contrastIdKeyDigest(measurement, { ...CONTRAST_POLICY, debug: true });
    expect(toHex(debug)).not.toBe(toHex(id.idKeyDigest));
  });

  it("encodes guest policies with the must-be-one bit, inverse to decoding (property)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 26n) - 1n }), (raw) => {
        const withBit = raw | (1n << 17n);
        expect(encodeGuestPolicy(decodeGuestPolicy(withBit))).toBe(withBit);
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});

describe("ID key digests in validation", () => {
  const clock = fixedClock("2026-11-22T00:00:00Z");
  const sim = createSimulatedAuthority({ clock, rsaModulusLength: 2048 });
  const request = { reportData: new Uint8Array(64), measurement, hostData: new Uint8Array(32) };
  const expectation = {
    measurement,
    minimumTcb: sim.tcb,
    guestPolicy: CONTRAST_POLICY,
    idKeyDigest: contrastIdKeyDigest(measurement, CONTRAST_POLICY),
  };
  const verified = (report: Uint8Array) =>
    verifySnpReport({ report, endorsementKey: sim.vcek, now: clock.now(), roots: sim.roots });

  it("a simulated launch carries Contrast's ID block and passes", () => {
    const report = sim.report(request);
    const parsed = parseSnpReport(report);
    expect(parsed.guestSvn).toBe(2);
    expect(snpMismatches(verified(report), expectation)).toEqual([]);
  });

  it("a launch without the ID block, or with another policy, fails on ID_KEY_DIGEST", () => {
    const none = snpMismatches(verified(sim.report({ ...request, idBlock: "none" })), expectation);
    expect(none.map((m) => m.code)).toEqual(["ATTESTATION_ID_KEY_MISMATCH"]);
    expect(none[0]?.actual).toBe("00".repeat(48));
    // A stricter policy passes the flag comparison but not the firmware-enforced ID block.
    const single = snpMismatches(verified(sim.report({ ...request, policy: 0x130000n })), expectation);
    expect(single.map((m) => m.code)).toEqual(["ATTESTATION_ID_KEY_MISMATCH"]);
  });
});

describe("contrastIdBlock's memory of recent results", () => {
  it("answers a repeated launch digest with equal results that callers cannot change for each other", () => {
    const fields = { launchDigest: new Uint8Array(48).fill(7), policy: encodeGuestPolicy(CONTRAST_POLICY) };
    const first = contrastIdBlock(fields);
    const expected = toHex(first.idKeyDigest);
    first.idKeyDigest.fill(0);
    first.idAuth.fill(0);
    first.idKey.x = 0n;
    const again = contrastIdBlock(fields);
    expect(toHex(again.idKeyDigest)).toBe(expected);
    expect(again.idKey.x).not.toBe(0n);
    expect(again.idAuth.some((b) => b !== 0)).toBe(true);
    // Another launch digest is another key.
    const other = contrastIdBlock({ ...fields, launchDigest: new Uint8Array(48).fill(8) });
    expect(toHex(other.idKeyDigest)).not.toBe(expected);
  });
});
