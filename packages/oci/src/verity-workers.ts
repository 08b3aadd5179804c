import { Worker } from "node:worker_threads";
import type { BlockHasher } from "./verity.js";

// The worker's source is a string evaluated by Node, so it runs unchanged from the TypeScript
// sources (tests), the built package and an esbuild bundle: there is no file to locate.
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { hash } = require("node:crypto");
const scratch = Buffer.alloc(32 + 4096);
parentPort.on("message", (m) => {
  const data = new Uint8Array(m.buffer, m.offset, m.length);
  const count = Math.floor(m.length / 4096);
  const out = new Uint8Array(count * 32);
  for (let i = 0; i < count; i++) {
    scratch.set(data.subarray(i * 4096, i * 4096 + 4096), 32);
    out.set(hash("sha256", scratch, "buffer"), i * 32);
  }
  parentPort.postMessage({ id: m.id, out }, [out.buffer]);
});
`;

interface Job {
  resolve(hashes: Uint8Array): void;
  reject(err: unknown): void;
}

/**
 * Hashes data blocks on worker threads, round-robin. Each batch's buffer is transferred, not
 * copied, to its worker. `close()` ends the threads; an idle pool does not keep Node alive.
 */
export class WorkerBlockHasher implements BlockHasher {
  private readonly workers: Worker[] = [];
  private readonly jobs = new Map<number, Job>();
  private nextId = 0;
  private nextWorker = 0;
  private busy = 0;

  constructor(threads: number) {
    for (let i = 0; i < Math.max(1, threads); i++) {
      const w = new Worker(WORKER_SOURCE, { eval: true });
      w.unref();
      w.on("message", (m: { id: number; out: Uint8Array }) => {
        const job = this.jobs.get(m.id);
        this.jobs.delete(m.id);
        this.settled();
        job?.resolve(m.out);
      });
      w.on("error", (err) => {
        for (const job of this.jobs.values()) job.reject(err);
        this.jobs.clear();
      });
      this.workers.push(w);
    }
  }

  private settled(): void {
    this.busy--;
    // Idle workers must not hold the event loop open (a CLI would hang after its work).
    if (this.busy === 0) for (const w of this.workers) w.unref();
  }

  hashBlocks(data: Uint8Array): Promise<Uint8Array> {
    const id = this.nextId++;
    const worker = this.workers[this.nextWorker++ % this.workers.length];
    if (worker === undefined) return Promise.reject(new Error("no workers"));
    if (this.busy++ === 0) for (const w of this.workers) w.ref();
    // Transfer only when the view owns its whole buffer; otherwise copy this batch.
    const own = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice();
    return new Promise<Uint8Array>((resolve, reject) => {
      this.jobs.set(id, { resolve, reject });
      worker.postMessage({ id, buffer: own.buffer, offset: own.byteOffset, length: own.byteLength }, [
        own.buffer as ArrayBuffer,
      ]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
