import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fixedClock, type LogFields, type Logger, utf8 } from "@contrast/core";
import { parsePlatform } from "@contrast/manifest";
import { scratchDir, testdataPath } from "@contrast/testkit";
import {
  hostFsAt,
  type InstallOptions,
  installRuntime,
  integrityOf,
  nodeFetcher,
  parseInstallConfig,
} from "../src/index.js";

/** Unix time of the fixed clock: the backup suffix. */
export const NOW = 1_767_225_600;

export const vendored = (path: string) => readFileSync(testdataPath(`node-installer/${path}`), "utf8");

/** A fake node: a scratch directory standing for the host's /, plus the payload to install. */
export class FakeNode {
  readonly root = scratchDir("contrast-node-");
  readonly payloadDir = scratchDir("contrast-payload-");
  readonly restarts: string[] = [];
  readonly logs: { level: string; message: string; fields?: LogFields }[] = [];

  put(path: string, content: string | Uint8Array, mode = 0o644): void {
    const full = join(this.root, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content, { mode });
  }

  read(path: string): string {
    return readFileSync(join(this.root, path), "utf8");
  }

  exists(path: string): boolean {
    try {
      statSync(join(this.root, path));
      return true;
    } catch {
      return false;
    }
  }

  mode(path: string): number {
    return statSync(join(this.root, path)).mode & 0o7777;
  }

  /** Every file below the root, sorted, as host paths. */
  files(): string[] {
    return (readdirSync(this.root, { recursive: true, withFileTypes: true }) as import("node:fs").Dirent[])
      .filter((d) => d.isFile())
      .map((d) => join(d.parentPath, d.name).slice(this.root.length))
      .sort();
  }

  /** A payload file for file:// URLs. */
  payload(name: string, content: string): string {
    const path = join(this.payloadDir, name);
    writeFileSync(path, content);
    return `file://${path}`;
  }

  logger(): Logger {
    const log = (level: string) => (message: string, fields?: LogFields) =>
      this.logs.push(fields === undefined ? { level, message } : { level, message, fields });
    return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
  }

  /** Runs the installer with this node's file system, a fixed clock and a recording restart. */
  install(platform: string, config: unknown, extra: Partial<InstallOptions> = {}) {
    return installRuntime({
      platform: parsePlatform(platform),
      config: parseInstallConfig(typeof config === "string" ? config : JSON.stringify(config)),
      fs: hostFsAt(this.root),
      fetch: nodeFetcher(),
      clock: fixedClock(NOW * 1000),
      logger: this.logger(),
      restart: async (service) => {
        this.restarts.push(service);
      },
      ...extra,
    });
  }
}

export const handlerFor = (platform: string) => `contrast-cc-${platform}-1a2b3c4d`;

/** A minimal install config: the shim from a file:// payload. */
export function shimConfig(node: FakeNode, platform: string, extra: Record<string, unknown> = {}) {
  const url = node.payload("shim", "#!/bin/sh\necho shim\n");
  return {
    runtimeHandler: handlerFor(platform),
    files: [
      {
        url,
        path: "/opt/edgeless/@@runtimeName@@/bin/containerd-shim-contrast-cc-v2",
        integrity: integrityOf(utf8("#!/bin/sh\necho shim\n"), "sha384"),
        executable: true,
      },
    ],
    ...extra,
  };
}

/** An HTTP server with fixed bodies per path; 404 for the rest. */
export async function serve(bodies: Record<string, Uint8Array>): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const body = bodies[req.url ?? ""];
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-length": body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/**
 * containerd's own config loader (`containerd --config F config dump`, no daemon needed): the
 * real check that containerd reads the file and sees the runtime. .ci/run installs containerd.
 */
export function containerdDump(file: string): string {
  return execFileSync("containerd", ["--config", file, "config", "dump"], { encoding: "utf8" });
}

/** The value at a key path of a parsed document, or undefined. */
export const at = (doc: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((cur, key) => (cur as Record<string, unknown> | undefined)?.[key], doc);
