import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BuiltImage } from "./images.js";

// Ports handed out by this process: the kernel may give the same ephemeral port to two
// listen(0) calls in a row once the first socket is closed, and a caller that asks for three
// ports before binding any would then get a duplicate.
const issuedPorts = new Set<number>();

function tryListen(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(undefined));
    // All interfaces: podman publishes on 0.0.0.0, so a port taken there is taken for it too.
    s.listen(port, () => {
      const a = s.address();
      s.close(() => resolve(typeof a === "object" && a !== null ? a.port : undefined));
    });
  });
}

/**
 * A TCP port that is free now and was not returned before by this process. It is picked at
 * random below Linux's default ephemeral range (32768-60999), so outgoing connections and other
 * test workers, which pick their own random ports, rarely collide with it.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const candidate = 20000 + Math.floor(Math.random() * 12000);
    if (issuedPorts.has(candidate)) continue;
    const port = await tryListen(candidate);
    if (port !== undefined) {
      issuedPorts.add(port);
      return port;
    }
  }
  throw new Error("freePort: no free port found in 20000-31999 after 200 attempts");
}

/** Debian's docker-registry (github.com/distribution/distribution), on loopback, temp storage. */
export class LocalRegistry {
  private constructor(
    readonly host: string,
    private readonly proc: ChildProcess,
    private readonly dir: string,
    readonly auth: { user: string; password: string } | undefined,
  ) {}

  static async start(options: { htpasswd?: { user: string; password: string } } = {}): Promise<LocalRegistry> {
    const dir = mkdtempSync(join(tmpdir(), "contrast-registry-"));
    const port = await freePort();
    let auth = "";
    if (options.htpasswd) {
      const file = join(dir, "htpasswd");
      execFileSync("htpasswd", ["-Bbc", file, options.htpasswd.user, options.htpasswd.password], { stdio: "ignore" });
      auth = `auth:\n  htpasswd:\n    realm: test-realm\n    path: ${file}\n`;
    }
    const config = join(dir, "config.yml");
    writeFileSync(
      config,
      `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, "data")}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${auth}`,
    );
    const proc = spawn("docker-registry", ["serve", config], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    proc.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const host = `127.0.0.1:${port}`;
    for (let i = 0; i < 200; i++) {
      try {
        const res = await fetch(`http://${host}/v2/`);
        if (res.status === 200 || res.status === 401) return new LocalRegistry(host, proc, dir, options.htpasswd);
      } catch {
        // not up yet
      }
      if (proc.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    proc.kill();
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`docker-registry did not start:\n${stderr}`);
  }

  private headers(): Record<string, string> {
    return this.auth
      ? { Authorization: `Basic ${Buffer.from(`${this.auth.user}:${this.auth.password}`).toString("base64")}` }
      : {};
  }

  /** Monolithic blob upload: POST a session, PUT the bytes with the digest. */
  async pushBlob(repo: string, digest: string, data: Uint8Array): Promise<void> {
    const start = await fetch(`http://${this.host}/v2/${repo}/blobs/uploads/`, {
      method: "POST",
      headers: this.headers(),
    });
    if (start.status !== 202) throw new Error(`upload start: ${start.status} ${await start.text()}`);
    const location = new URL(start.headers.get("location") ?? "", `http://${this.host}`);
    location.searchParams.set("digest", digest);
    const put = await fetch(location, {
      method: "PUT",
      headers: { ...this.headers(), "Content-Type": "application/octet-stream" },
      body: data,
    });
    if (put.status !== 201) throw new Error(`upload: ${put.status} ${await put.text()}`);
  }

  async pushManifest(repo: string, reference: string, bytes: Uint8Array, mediaType: string): Promise<void> {
    const res = await fetch(`http://${this.host}/v2/${repo}/manifests/${reference}`, {
      method: "PUT",
      headers: { ...this.headers(), "Content-Type": mediaType },
      body: bytes,
    });
    if (res.status !== 201) throw new Error(`manifest: ${res.status} ${await res.text()}`);
  }

  async pushImage(repo: string, tag: string | undefined, image: BuiltImage): Promise<void> {
    for (const l of image.layers) await this.pushBlob(repo, l.digest, l.gz);
    await this.pushBlob(repo, image.configDigest, image.config);
    const mediaType = (JSON.parse(image.manifest.toString()) as { mediaType: string }).mediaType;
    await this.pushManifest(repo, tag ?? image.manifestDigest, image.manifest, mediaType);
  }

  async stop(): Promise<void> {
    const exited = new Promise((r) => this.proc.once("exit", r));
    this.proc.kill();
    await exited;
    rmSync(this.dir, { recursive: true, force: true });
  }
}
