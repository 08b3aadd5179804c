import "reflect-metadata";
import { type ExecFileSyncOptions, execFileSync } from "node:child_process";
import { createHash, webcrypto } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as x509 from "@peculiar/x509";
import { afterAll, expect } from "vitest";
import type { RandomSource } from "../src/random.js";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };

export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 200);
export const TESTDATA = join(dirname(fileURLToPath(import.meta.url)), "../../../testdata/mesh-pki");

/** A deterministic RandomSource: SHA-256 in counter mode over a label. */
export function testRandom(label = "test"): RandomSource {
  let counter = 0;
  return (length) => {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i += 32) {
      const block = createHash("sha256").update(`${label}:${counter++}`).digest();
      out.set(block.subarray(0, Math.min(32, length - i)), i);
    }
    return out;
  };
}

/** Child processes must not inherit NODE_EXTRA_CA_CERTS (it changes OpenSSL-facing behaviour). */
export function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

export function openssl(args: readonly string[], options: ExecFileSyncOptions = {}): Buffer {
  return execFileSync("openssl", args, { env: childEnv(), stdio: ["pipe", "pipe", "pipe"], ...options }) as Buffer;
}

/** A scratch directory removed after the test file. */
export function scratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "mesh-pki-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function expectCode(fn: () => unknown, code: string, kind?: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected ${code}`).toBeDefined();
  expect((thrown as { code?: string }).code).toBe(code);
  if (kind !== undefined) expect((thrown as { kind?: string }).kind).toBe(kind);
}
