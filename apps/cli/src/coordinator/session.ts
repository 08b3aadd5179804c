import type { KeyObject } from "node:crypto";
import type { AtlsVerifyOptions } from "@contrast/atls";
import { ContrastError, systemClock } from "@contrast/core";
import { cryptoRandom } from "@contrast/mesh-pki";
import type { Context } from "../context.js";
import { type CoordinatorAddress, parseCoordinatorAddress } from "./address.js";
import { callCoordinator, type UserClient } from "./dial.js";
import { type ExpectedPolicyHashes, expectedCoordinatorPolicyHashes } from "./policy-hash.js";
import { coordinatorVerifyOptions } from "./verify-options.js";
import { type ManifestFile, readManifestFile } from "./workspace.js";

export interface SessionFlags {
  readonly coordinator?: string;
  readonly manifest?: string;
  readonly coordinatorPolicyHash?: string;
  readonly timeout?: string;
}

/** What set, verify and recover know before they dial: where, what to expect, for how long. */
export interface CoordinatorSession {
  readonly address: CoordinatorAddress;
  readonly manifest: ManifestFile;
  readonly policyHashes: ExpectedPolicyHashes;
  readonly verify: AtlsVerifyOptions;
  readonly timeoutMs: number;
}

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** Reads the flags every Coordinator command shares; fails before any network traffic. */
export async function openSession(ctx: Context, flags: SessionFlags): Promise<CoordinatorSession> {
  const address = parseCoordinatorAddress(flags.coordinator);
  const timeoutMs = parseTimeout(flags.timeout);
  const manifest = await readManifestFile(ctx, flags.manifest);
  const policyHashes = expectedCoordinatorPolicyHashes(manifest.manifest, flags.coordinatorPolicyHash);
  const verify = coordinatorVerifyOptions({
    manifest: manifest.manifest,
    issues: manifest.issues,
    manifestPath: manifest.path,
    policyHashes: policyHashes.hashes,
    clock: systemClock,
    log: ctx.log,
    fetcher: httpFetcher,
  });
  ctx.log.debug("expecting the Coordinator's policy hash", {
    hashes: policyHashes.hashes,
    source: policyHashes.source,
  });
  return { address, manifest, policyHashes, verify, timeoutMs };
}

/**
 * Runs `call` against the Coordinator with the session's expectations, retrying while it is
 * unreachable, with a spinner on a terminal ("Waiting for coordinator", as upstream).
 */
export async function withCoordinator<T>(
  ctx: Context,
  session: CoordinatorSession,
  clientKey: KeyObject | undefined,
  call: (client: UserClient, deadline: Date) => Promise<T>,
): Promise<T> {
  const target = session.address.target;
  try {
    return await callCoordinator(
      {
        address: session.address,
        verify: session.verify,
        clientKey,
        random: cryptoRandom,
        timeoutMs: session.timeoutMs,
        clock: systemClock,
        onRetry: (attempt, reason) => {
          ctx.log.debug("the Coordinator is not reachable yet; retrying", {
            attempt,
            reason: reason.code,
            message: reason.message,
          });
          ctx.out.progress(
            `${SPINNER[attempt % SPINNER.length]} Waiting for the Coordinator at ${target} (${reason.code})`,
          );
        },
      },
      call,
    );
  } finally {
    ctx.out.progress(undefined);
  }
}

function parseTimeout(value: string | undefined): number {
  if (value === undefined) return 180_000;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 24 * 3600) {
    throw new ContrastError("CLI_USAGE", `--timeout ${JSON.stringify(value)} is not a number of seconds`, {
      hint: "Pass a positive number of seconds, e.g. --timeout 300.",
    });
  }
  return Math.round(seconds * 1000);
}

/** fetch for AMD's KDS: the body of a 2xx answer, else an error naming the status. */
async function httpFetcher(url: string): Promise<{ body: Uint8Array; headers: Record<string, string> }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  const headers: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    headers[k] = v;
  });
  return { body: new Uint8Array(await res.arrayBuffer()), headers };
}
