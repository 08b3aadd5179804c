import { writeFile } from "node:fs/promises";
import type { Logger } from "@contrast/core";
import {
  AdminServer,
  formatHostPort,
  type HostPort,
  type MeshCredentials,
  type MeshMetrics,
} from "@contrast/mesh-proxy";

/** A listener: stops accepting and drains within a deadline; takes new credentials. */
export interface Drainable {
  readonly name: string;
  close(deadlineMs: number): Promise<void>;
  updateCredentials(credentials: MeshCredentials): void;
}

export interface Serving {
  readonly listeners: readonly Drainable[];
  readonly admin: AdminServer | undefined;
  ready: boolean;
}

/** Starts the admin interface when an address is given. */
export async function startAdmin(
  address: HostPort | undefined,
  metrics: MeshMetrics,
  isReady: () => boolean,
  log: Logger,
): Promise<AdminServer | undefined> {
  if (address === undefined) return undefined;
  const admin = new AdminServer({ metrics, isReady });
  const bound = await admin.listen(address);
  log.info("admin interface listening", { address: formatHostPort(bound) });
  return admin;
}

/** Writes the (empty) ready file the startup probe tests for; "" writes none. */
export async function markReady(path: string, log: Logger): Promise<void> {
  if (path === "") return;
  await writeFile(path, "");
  log.info("ready", { readyFile: path });
}

/**
 * Waits for SIGTERM or SIGINT, then drains: every listener stops accepting at once, open
 * connections get `drainMs` to finish, the rest are destroyed. Resolves with exit status 0.
 */
export function drainOnSignal(
  serving: Serving,
  drainMs: number,
  log: Logger,
  signals: NodeJS.EventEmitter = process,
): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      serving.ready = false;
      log.info("draining", { signal, deadlineMs: drainMs });
      Promise.all(serving.listeners.map((l) => l.close(drainMs)))
        .then(() => serving.admin?.close())
        .then(() => {
          log.info("drained");
          resolve(0);
        });
    };
    signals.once("SIGTERM", () => stop("SIGTERM"));
    signals.once("SIGINT", () => stop("SIGINT"));
  });
}

/**
 * SIGHUP: reads the credential files again and gives them to every listener for new connections
 * (open ones keep theirs). A file that does not load is logged and the old credentials stay.
 */
export function reloadOnHangup(
  serving: Serving,
  read: () => Promise<MeshCredentials>,
  log: Logger,
  signals: NodeJS.EventEmitter = process,
): void {
  signals.on("SIGHUP", () => {
    read().then(
      (credentials) => {
        for (const l of serving.listeners) l.updateCredentials(credentials);
        log.info("credentials reloaded", { subject: credentials.leaf.subject, notAfter: credentials.leaf.validTo });
      },
      (error: unknown) => log.error("credentials not reloaded; the previous ones stay in use", { error }),
    );
  });
}
