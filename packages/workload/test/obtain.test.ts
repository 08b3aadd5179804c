import { reportData } from "@contrast/atls";
import { bytesEqual, ContrastError, type LogFields, type Logger } from "@contrast/core";
import { expectCodeAsync } from "@contrast/testkit";
import { describe, expect, it } from "vitest";
import {
  type CredentialFileSystem,
  initializeWorkload,
  type MeshCertClient,
  type MeshCredentials,
  obtainMeshCredentials,
} from "../src/index.js";
import { answerFor, clock, p256, spki } from "./helpers.js";

/** An issuer double: its "evidence" is the report data itself, so the binding can be checked. */
const issuer = { platform: "sim" as const, oid: "1.3.9901.2.1", issue: async (rd: Uint8Array) => rd.slice() };

interface Entry {
  level: string;
  msg: string;
  fields: LogFields | undefined;
}
function recordingLogger(): Logger & { entries: Entry[] } {
  const entries: Entry[] = [];
  const at = (level: string) => (msg: string, fields?: LogFields) => void entries.push({ level, msg, fields });
  return { entries, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/**
 * A Coordinator double: answers each attempt's NewMeshCert from `script` (an error to throw, or
 * "ok"), checks the nonce flow (fresh nonce, evidence = reportData(client key, nonce), the OID)
 * and counts closes.
 */
function fakeCoordinator(publicKeyDer: Uint8Array, answer: MeshCredentials, script: (ContrastError | "ok" | "hang")[]) {
  const state = { connects: 0, closes: 0, nonces: [] as Uint8Array[], deadlines: [] as (Date | undefined)[] };
  const connect = async (): Promise<MeshCertClient> => {
    const attempt = state.connects++;
    let nonce: Uint8Array | undefined;
    return {
      newAttestationNonce: async (_r, options) => {
        nonce = new Uint8Array(32).fill(attempt + 1);
        state.nonces.push(nonce);
        state.deadlines.push(options?.deadline);
        return { Nonce: nonce, TtlSeconds: 60 } as never;
      },
      newMeshCert: async (r) => {
        if (nonce === undefined || !bytesEqual(r.AttestationNonce, nonce)) throw new Error("nonce not the issued one");
        if (!bytesEqual(r.Evidence, reportData(publicKeyDer, nonce))) throw new Error("evidence not bound");
        if (r.EvidenceOID !== issuer.oid) throw new Error("wrong OID");
        const step = script[attempt] ?? "ok";
        if (step === "hang") return new Promise<never>(() => {});
        if (step !== "ok") throw step;
        return answer;
      },
      close: () => void state.closes++,
    };
  };
  return { state, connect };
}

const err = (code: string, kind: ContrastError["kind"]) => new ContrastError(code, `${code} message`, { kind });

function base(signal = new AbortController().signal) {
  const sleeps: number[] = [];
  const log = recordingLogger();
  return {
    sleeps,
    log,
    options: {
      clock,
      log,
      signal,
      jitter: () => 0,
      sleep: async (ms: number) => void sleeps.push(ms),
      issuer,
    },
  };
}

describe("obtainMeshCredentials", () => {
  it("retries through unreachable, no manifest and denied, logging each new reason once as a warning, then succeeds", async () => {
    const key = p256();
    const answer = await answerFor(key);
    const { state, connect } = fakeCoordinator(spki(key), answer, [
      err("API_UNAVAILABLE", "io"),
      err("COORDINATOR_MESH_NOT_READY", "io"),
      err("COORDINATOR_MESH_NOT_READY", "io"),
      err("COORDINATOR_POLICY_NOT_IN_MANIFEST", "policy"),
    ]);
    const { sleeps, log, options } = base();
    const got = await obtainMeshCredentials({
      ...options,
      connect,
      publicKeyDer: spki(key),
      accept: (a) => a,
      callTimeoutMs: 7000,
    });
    expect(got).toEqual({ value: answer, attempts: 5 });
    expect(sleeps).toEqual([1000, 2000, 4000, 5000]);
    expect(log.entries.map((e) => [e.level, e.msg, e.fields?.reason])).toEqual([
      ["warn", "the Coordinator is unreachable; retrying", "unreachable"],
      ["warn", "the Coordinator has no manifest yet or is in recovery mode; retrying", "not-ready"],
      ["info", "the Coordinator has no manifest yet or is in recovery mode; retrying", "not-ready"],
      ["warn", "permission denied: the Coordinator's manifest does not list this pod's policy; retrying", "denied"],
      ["info", "received mesh credentials", undefined],
    ]);
    expect(log.entries[3]?.fields).toMatchObject({
      attempt: 4,
      retryInMs: 5000,
      error: { code: "COORDINATOR_POLICY_NOT_IN_MANIFEST" },
    });
    // A fresh connection and nonce per attempt, every client closed, each call with its deadline.
    expect(state).toMatchObject({ connects: 5, closes: 5 });
    expect(new Set(state.nonces.map((n) => n[0])).size).toBe(5);
    expect(state.deadlines.every((d) => d?.getTime() === clock.now().getTime() + 7000)).toBe(true);
  });

  it("an unusable answer is retried like any other failure", async () => {
    const key = p256();
    const good = await answerFor(key);
    const wrongKey = await answerFor(p256());
    let calls = 0;
    const connect = async (): Promise<MeshCertClient> => ({
      newAttestationNonce: async () => ({ Nonce: new Uint8Array(32), TtlSeconds: 60 }) as never,
      newMeshCert: async () => (calls++ === 0 ? wrongKey : good),
      close: () => {},
    });
    const { log, options } = base();
    const { credentialFiles } = await import("../src/index.js");
    const km = { publicKeyDer: spki(key), privateKeyPem: key.export({ type: "pkcs8", format: "pem" }).toString() };
    const got = await obtainMeshCredentials({
      ...options,
      connect,
      publicKeyDer: km.publicKeyDer,
      accept: (a) => credentialFiles(a, km),
    });
    expect(got.attempts).toBe(2);
    expect(log.entries[0]).toMatchObject({
      level: "warn",
      fields: { reason: "bad-response", error: { code: "INITIALIZER_RESPONSE_INVALID" } },
    });
  });

  it("stops with INITIALIZER_STOPPED when aborted while waiting to retry", async () => {
    const key = p256();
    const controller = new AbortController();
    const { connect, state } = fakeCoordinator(spki(key), await answerFor(key), [
      err("API_UNAVAILABLE", "io"),
      err("API_UNAVAILABLE", "io"),
    ]);
    const { options } = base(controller.signal);
    const sleep = async () => {
      if (state.connects === 2) controller.abort();
    };
    await expectCodeAsync(
      () => obtainMeshCredentials({ ...options, sleep, connect, publicKeyDer: spki(key), accept: (a) => a }),
      "INITIALIZER_STOPPED",
    );
    expect(state.connects).toBe(2);
  });

  it("stops at once when aborted during a call that does not return, and closes its client", async () => {
    const key = p256();
    const controller = new AbortController();
    const { connect, state } = fakeCoordinator(spki(key), await answerFor(key), ["hang"]);
    const { options } = base(controller.signal);
    const pending = obtainMeshCredentials({ ...options, connect, publicKeyDer: spki(key), accept: (a) => a });
    setTimeout(() => controller.abort(), 20);
    await expectCodeAsync(() => pending, "INITIALIZER_STOPPED");
    expect(state).toMatchObject({ connects: 1, closes: 1 });
  });
});

describe("initializeWorkload", () => {
  function memoryFs() {
    const files = new Map<string, { contents: Uint8Array; mode: number }>();
    const fs: CredentialFileSystem = {
      mkdir: async () => {},
      stage: async (path, contents, mode) => ({
        commit: async () => void files.set(path, { contents, mode }),
        discard: async () => {},
      }),
    };
    return { files, fs };
  }

  it("gets the credentials for its key and writes them, the marker last", async () => {
    const key = p256();
    const { connect } = fakeCoordinator(spki(key), await answerFor(key), [err("COORDINATOR_MESH_NOT_READY", "io")]);
    const { files, fs } = memoryFs();
    const { options } = base();
    const result = await initializeWorkload({ ...options, key, connect, fs, root: "/contrast", marker: "/done" });
    expect(result).toMatchObject({ attempts: 2, hasWorkloadSecret: true });
    expect(result.written).toEqual([
      "/contrast/tls-config/mesh-ca.pem",
      "/contrast/tls-config/certChain.pem",
      "/contrast/tls-config/key.pem",
      "/contrast/tls-config/coordinator-root-ca.pem",
      "/contrast/secrets/workload-secret-seed",
      "/done",
    ]);
    expect(files.get("/contrast/tls-config/key.pem")?.mode).toBe(0o400);
  });

  it("a stop that comes while the files are written does not cut them short", async () => {
    const key = p256();
    const controller = new AbortController();
    const { connect } = fakeCoordinator(spki(key), await answerFor(key), []);
    const { files, fs } = memoryFs();
    const stopping: CredentialFileSystem = {
      mkdir: async (p, m) => {
        controller.abort();
        await fs.mkdir(p, m);
      },
      stage: fs.stage,
    };
    const { options } = base(controller.signal);
    const result = await initializeWorkload({ ...options, key, connect, fs: stopping, root: "/r", marker: "done" });
    expect(result.written).toHaveLength(6);
    expect(files.size).toBe(6);
  });

  it("writes nothing when stopped before an answer", async () => {
    const key = p256();
    const controller = new AbortController();
    controller.abort();
    const { connect } = fakeCoordinator(spki(key), await answerFor(key), []);
    const { files, fs } = memoryFs();
    const { options } = base(controller.signal);
    await expectCodeAsync(
      () => initializeWorkload({ ...options, signal: controller.signal, key, connect, fs, root: "/contrast" }),
      "INITIALIZER_STOPPED",
    );
    expect(files.size).toBe(0);
  });
});
