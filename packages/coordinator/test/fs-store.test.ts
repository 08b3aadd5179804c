import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { systemClock, toHex, utf8 } from "@contrast/core";
import { ZERO_TRANSITION_HASH } from "@contrast/mesh-pki";
import { expectCodeAsync, fuzzRuns, scratchDir } from "@contrast/testkit";
import { buildSync } from "esbuild";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FileSystemStore, History } from "../src/index.js";
import { behavesLikeMemoryStore } from "./helpers/store-model.js";
import { expectCompareAndSwapContract } from "./store-contract.js";

const open = (stateDir: string, extra: { staleLockMs?: number; lockTimeoutMs?: number } = {}) =>
  FileSystemStore.open({ stateDir, clock: systemClock, ...extra });

const mode = (path: string) => statSync(path).mode & 0o777;

/** A pid that is certainly not running: a process that has exited and been reaped. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", ""]);
  return r.pid as number;
}

function writeLock(stateDir: string, key: string, content: string, ageMs = 0): string {
  const [kind, name] = key.split("/") as [string, string];
  const dir = join(stateDir, "history", kind);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `.${name}.lock`);
  writeFileSync(path, content);
  if (ageMs > 0) {
    const t = new Date(Date.now() - ageMs);
    utimesSync(path, t, t);
  }
  return path;
}

const lockOf = (pid: number, host = hostname()) =>
  `${JSON.stringify({ pid, host, token: "someone-else", since: new Date().toISOString() })}\n`;

describe("FileSystemStore", () => {
  it("keeps entries at <state-dir>/history/<kind>/<name> with modes 0700/0600", async () => {
    const dir = scratchDir();
    const store = await open(dir);
    expect(await store.get("manifests/abc")).toBeUndefined();
    await store.set("manifests/abc", utf8("hello"));
    const file = join(dir, "history", "manifests", "abc");
    expect(readFileSync(file, "utf8")).toBe("hello");
    expect(mode(file)).toBe(0o600);
    expect(mode(join(dir, "history"))).toBe(0o700);
    expect(mode(join(dir, "history", "manifests"))).toBe(0o700);
    expect(await store.get("manifests/abc")).toEqual(utf8("hello"));
    await store.set("manifests/abc", utf8("again"));
    expect(await store.get("manifests/abc")).toEqual(utf8("again"));
    // Only the entry is left: no temporary file, no lock file.
    expect(readdirSync(join(dir, "history", "manifests"))).toEqual(["abc"]);
  });

  it("getSync reads what get reads: nothing, a value, a replaced value; an unreadable entry is HISTORY_STORE_IO", async () => {
    const dir = scratchDir();
    const store = await open(dir);
    expect(store.getSync("transitions/latest")).toBeUndefined();
    await store.set("transitions/latest", utf8("one"));
    expect(store.getSync("transitions/latest")).toEqual(utf8("one"));
    expect(await store.compareAndSwap("transitions/latest", utf8("one"), utf8("two"))).toBe(true);
    expect(store.getSync("transitions/latest")).toEqual(await store.get("transitions/latest"));
    expect(store.getSync("transitions/latest")).toEqual(utf8("two"));
    // A directory where the entry should be: the read fails (EISDIR), and says so with a code.
    mkdirSync(join(dir, "history", "manifests", "dir"), { recursive: true });
    expect(() => store.getSync("manifests/dir")).toThrow(expect.objectContaining({ code: "HISTORY_STORE_IO" }));
    expect(() => store.getSync("../x")).toThrow(expect.objectContaining({ code: "HISTORY_KEY_INVALID" }));
  });

  it("rejects keys outside the grammar before touching the disk", async () => {
    const dir = scratchDir();
    const store = await open(dir);
    for (const key of ["../x", "a/../../b", "a/.b", "a", "a/b/c", "/etc/passwd"]) {
      await expectCodeAsync(() => store.set(key, utf8("x")), "HISTORY_KEY_INVALID");
      await expectCodeAsync(() => store.get(key), "HISTORY_KEY_INVALID");
    }
    expect(readdirSync(join(dir, "history"))).toEqual([]);
  });

  it("implements compareAndSwap's contract (absent, mismatch, match)", async () => {
    const store = await open(scratchDir());
    await expectCompareAndSwapContract(store);
  });

  it("holds a History in upstream's file layout, readable by a second store on the same directory", async () => {
    const dir = scratchDir();
    const h = new History(await open(dir));
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-384" });
    const m = await h.putManifest(utf8("hello"));
    const t = await h.setLatest(
      undefined,
      { manifestHash: m, previousTransitionHash: ZERO_TRANSITION_HASH },
      privateKey,
    );
    expect(existsSync(join(dir, "history", "manifests", toHex(m)))).toBe(true);
    expect(existsSync(join(dir, "history", "transitions", toHex(t.transitionHash)))).toBe(true);
    const latest = readFileSync(join(dir, "history", "transitions", "latest"));
    expect(toHex(latest.subarray(0, 32))).toBe(toHex(t.transitionHash));
    const again = new History(await open(dir));
    expect((await again.getLatest(publicKey))?.transitionHash).toEqual(t.transitionHash);
  });

  it("ignores leftover temporary files and removes old ones on open", async () => {
    const dir = scratchDir();
    const store = await open(dir);
    await store.set("manifests/abc", utf8("whole"));
    const kindDir = join(dir, "history", "manifests");
    const oldTmp = join(kindDir, ".abc.4242-dead.tmp");
    const youngTmp = join(kindDir, ".abc.4243-live.tmp");
    writeFileSync(oldTmp, "half");
    writeFileSync(youngTmp, "half");
    const t = new Date(Date.now() - 3600_000);
    utimesSync(oldTmp, t, t);
    expect(await store.get("manifests/abc")).toEqual(utf8("whole"));
    const reopened = await open(dir);
    expect(existsSync(oldTmp)).toBe(false);
    expect(existsSync(youngTmp)).toBe(true);
    expect(await reopened.removeLeftovers()).toBe(0);
  });

  it("breaks a lock left by a killed process on this host at once", async () => {
    const dir = scratchDir();
    const lock = writeLock(dir, "transitions/latest", lockOf(deadPid()));
    // Not by age: the lock is fresh and the stale age far away, so only the dead pid can explain it.
    const store = await open(dir, { staleLockMs: 3600_000, lockTimeoutMs: 10_000 });
    expect(await store.compareAndSwap("transitions/latest", undefined, utf8("a"))).toBe(true);
    expect(existsSync(lock)).toBe(false);
  });

  it("waits for a live holder's lock and gives up with HISTORY_STORE_LOCKED, then breaks it once it is old", async () => {
    const dir = scratchDir();
    const holder = spawn("sleep", ["30"]);
    try {
      const lock = writeLock(dir, "transitions/latest", lockOf(holder.pid as number));
      const store = await open(dir, { lockTimeoutMs: 300 });
      await expectCodeAsync(
        () => store.compareAndSwap("transitions/latest", undefined, utf8("a")),
        "HISTORY_STORE_LOCKED",
        "io",
      );
      await expectCodeAsync(() => store.set("transitions/latest", utf8("a")), "HISTORY_STORE_LOCKED");
      expect(await store.get("transitions/latest")).toBeUndefined();
      // The same lock, older than the stale age: its holder is presumed stuck and the lock broken.
      const t = new Date(Date.now() - 60_000);
      utimesSync(lock, t, t);
      expect(await store.compareAndSwap("transitions/latest", undefined, utf8("a"))).toBe(true);
    } finally {
      holder.kill("SIGKILL");
    }
  });

  it("does not judge another host's lock by its pid, only by its age", async () => {
    const dir = scratchDir();
    const lock = writeLock(dir, "transitions/latest", lockOf(deadPid(), "another-pod"));
    const store = await open(dir, { lockTimeoutMs: 200 });
    await expectCodeAsync(
      () => store.compareAndSwap("transitions/latest", undefined, utf8("a")),
      "HISTORY_STORE_LOCKED",
    );
    const t = new Date(Date.now() - 60_000);
    utimesSync(lock, t, t);
    expect(await store.compareAndSwap("transitions/latest", undefined, utf8("a"))).toBe(true);
  });

  it("treats an empty lock file (holder killed before writing it) by its age", async () => {
    const dir = scratchDir();
    const lock = writeLock(dir, "transitions/latest", "");
    const store = await open(dir, { lockTimeoutMs: 200 });
    await expectCodeAsync(() => store.set("transitions/latest", utf8("a")), "HISTORY_STORE_LOCKED");
    const t = new Date(Date.now() - 60_000);
    utimesSync(lock, t, t);
    await store.set("transitions/latest", utf8("a"));
    expect(await store.get("transitions/latest")).toEqual(utf8("a"));
  });

  it("reports an unwritable state directory as HISTORY_STORE_IO", async () => {
    const dir = scratchDir();
    writeFileSync(join(dir, "history"), "not a directory");
    await expectCodeAsync(() => open(dir), "HISTORY_STORE_IO", "io");
  });

  it("answers every sequence of operations as the MemoryStore does (property)", async () => {
    await fc.assert(
      behavesLikeMemoryStore(() => open(scratchDir())),
      { numRuns: Math.min(fuzzRuns(30), 500) },
    );
  });

  it("judges a lock file of arbitrary bytes by its age alone, never crashing on it (fuzz)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), fc.boolean(), async (bytes, old) => {
        const dir = scratchDir();
        const lock = writeLock(dir, "transitions/latest", "");
        writeFileSync(lock, bytes);
        if (old) {
          const t = new Date(Date.now() - 60_000);
          utimesSync(lock, t, t);
        }
        const store = await open(dir, { lockTimeoutMs: 30 });
        if (old) {
          expect(await store.compareAndSwap("transitions/latest", undefined, utf8("a"))).toBe(true);
        } else {
          await expectCodeAsync(() => store.set("transitions/latest", utf8("a")), "HISTORY_STORE_LOCKED");
        }
      }),
      { numRuns: Math.min(fuzzRuns(25), 300) },
    );
  });

  it("serialises concurrent compareAndSwap calls of one process and of two stores on one directory", async () => {
    const dir = scratchDir();
    const stores = [await open(dir), await open(dir)];
    const key = "transitions/latest";
    const wins: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const store = stores[i % 2] as FileSystemStore;
        for (;;) {
          const cur = await store.get(key);
          const n = cur === undefined ? 0 : Number(Buffer.from(cur).toString());
          if (n >= 40) return;
          if (await store.compareAndSwap(key, cur, utf8(String(n + 1)))) wins.push(n + 1);
        }
      }),
    );
    expect(wins.sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });
});

describe("FileSystemStore across processes", () => {
  const bundle = (name: string) => {
    const out = join(scratchDir("contrast-fs-store-"), `${name}.mjs`);
    buildSync({
      entryPoints: [fileURLToPath(new URL(`./fixtures/${name}.ts`, import.meta.url))],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      outfile: out,
      conditions: ["@contrast/source"],
      logLevel: "error",
    });
    return out;
  };
  const script = bundle("cas-hammer");
  const bigWriter = bundle("big-writer");
  const historyWriter = bundle("history-writer");

  interface Hammer {
    readonly child: ChildProcess;
    readonly wins: number[];
    readonly stderr: string[];
    readonly done: Promise<number | null>;
  }

  function hammer(stateDir: string, target: number, id: string): Hammer {
    const child = spawn(process.execPath, [script, stateDir, String(target), id], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const wins: number[] = [];
    const stderr: string[] = [];
    let buf = "";
    child.stdout?.on("data", (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split("\n");
      buf = lines.pop() ?? "";
      for (const l of lines) wins.push(Number(l));
    });
    child.stderr?.on("data", (d: Buffer) => stderr.push(d.toString()));
    const done = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    return { child, wins, stderr, done };
  }

  it("loses no update and has exactly one winner per value with 6 processes on one key", async () => {
    const dir = scratchDir();
    const target = 120;
    const hammers = Array.from({ length: 6 }, (_, i) => hammer(dir, target, `p${i}`));
    const codes = await Promise.all(hammers.map((h) => h.done));
    expect(codes, hammers.map((h) => h.stderr.join("")).join("\n")).toEqual([0, 0, 0, 0, 0, 0]);
    const all = hammers.flatMap((h) => h.wins).sort((a, b) => a - b);
    // Every increment 1..target was won by exactly one process.
    expect(all).toEqual(Array.from({ length: target }, (_, i) => i + 1));
    // More than one process won something: the test really raced.
    expect(hammers.filter((h) => h.wins.length > 0).length).toBeGreaterThan(1);
    expect(readdirSync(join(dir, "history", "transitions"))).toEqual(["latest"]);
  }, 120_000);

  it("survives writers killed with SIGKILL mid-run: the others finish, no value is won twice", async () => {
    const dir = scratchDir();
    const target = 150;
    const survivors = Array.from({ length: 3 }, (_, i) => hammer(dir, target, `s${i}`));
    const victims: Hammer[] = [];
    // Kill writers at random points, some of them while they hold the lock.
    for (let i = 0; i < 6; i++) {
      const v = hammer(dir, target, `v${i}`);
      victims.push(v);
      await new Promise((r) => setTimeout(r, 150 + Math.random() * 200));
      v.child.kill("SIGKILL");
      await v.done;
    }
    const codes = await Promise.all(survivors.map((h) => h.done));
    expect(codes, survivors.map((h) => h.stderr.join("")).join("\n")).toEqual([0, 0, 0]);
    const won = [...survivors, ...victims].flatMap((h) => h.wins);
    expect(new Set(won).size).toBe(won.length);
    // A victim may have committed its last win without printing it: at most one per victim.
    const missing = Array.from({ length: target }, (_, i) => i + 1).filter((n) => !won.includes(n));
    expect(missing.length).toBeLessThanOrEqual(victims.length);
    const final = readFileSync(join(dir, "history", "transitions", "latest"), "utf8");
    expect(Number(final.split(" ")[0])).toBe(target);
  }, 180_000);

  /** A value written by big-writer: 2 MiB of "a" or 3 MiB of "b", nothing in between. */
  const wholeValues = [Buffer.alloc(2 << 20, 0x61), Buffer.alloc(3 << 20, 0x62)];
  const isWholeValue = (v: Uint8Array | undefined) =>
    v !== undefined && wholeValues.some((w) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).equals(w));

  it("never lets a reader see a partial value while another process writes", async () => {
    const dir = scratchDir();
    const writer = spawn(process.execPath, [bigWriter, dir], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      await new Promise<void>((resolve) => writer.stdout?.once("data", () => resolve()));
      const reader = await open(dir);
      for (let i = 0; i < 150; i++) {
        const v = await reader.get("manifests/big");
        expect(isWholeValue(v), `read ${i}: ${v?.length} bytes`).toBe(true);
      }
    } finally {
      writer.kill("SIGKILL");
    }
  }, 60_000);

  it("keeps a whole value when the writer is killed with SIGKILL mid-write, and cleans its temporary file", async () => {
    const dir = scratchDir();
    for (let trial = 0; trial < 5; trial++) {
      const writer = spawn(process.execPath, [bigWriter, dir], { stdio: ["ignore", "pipe", "inherit"] });
      await new Promise<void>((resolve) => writer.stdout?.once("data", () => resolve()));
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 80));
      writer.kill("SIGKILL");
      await new Promise((r) => writer.once("exit", r));
      const store = await open(dir, { staleLockMs: 0 });
      expect(isWholeValue(await store.get("manifests/big"))).toBe(true);
      // Its lock (dead pid) and temporary file are gone after the next write and open.
      await store.set("manifests/other", utf8("x"));
      await store.set("manifests/big", new Uint8Array(2 << 20).fill(0x61));
      await open(dir, { staleLockMs: 0 });
      expect(readdirSync(join(dir, "history", "manifests")).sort()).toEqual(["big", "other"]);
    }
  }, 120_000);

  it("keeps one linear, verifiable history when four Coordinator processes append to one state directory", async () => {
    const dir = scratchDir();
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-384" });
    const keyFile = join(dir, "key.pem");
    writeFileSync(keyFile, privateKey.export({ type: "pkcs8", format: "pem" }));
    const perWriter = 8;
    const runs = ["w0", "w1", "w2", "w3"].map(
      (id) =>
        new Promise<string[]>((resolve, reject) => {
          const child = spawn(process.execPath, [historyWriter, dir, keyFile, id, String(perWriter)], {
            stdio: ["ignore", "pipe", "pipe"],
          });
          let out = "";
          let err = "";
          child.stdout?.on("data", (d: Buffer) => {
            out += d.toString();
          });
          child.stderr?.on("data", (d: Buffer) => {
            err += d.toString();
          });
          child.on("exit", (code) =>
            code === 0 ? resolve(out.trim().split("\n")) : reject(new Error(`writer ${id}: ${err}`)),
          );
        }),
    );
    const won = (await Promise.all(runs)).flat();
    const history = new History(await open(dir));
    const latest = await history.getLatest(publicKey);
    const chain = await history.chain(latest?.transitionHash ?? new Uint8Array(32));
    // Every acknowledged append is in the one chain, and the chain holds nothing else: no fork.
    expect(chain).toHaveLength(4 * perWriter);
    expect(new Set(chain.map((e) => toHex(e.transitionHash)))).toEqual(new Set(won));
    expect(new Set(chain.map((e) => Buffer.from(e.manifest).toString())).size).toBe(4 * perWriter);
  }, 120_000);
});
