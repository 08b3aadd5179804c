import type { Logger } from "@contrast/core";
import type { PodOptions } from "./options.js";

/** Pod mode; wired to the interception once @contrast/netfilter is merged. */
export async function runPod(
  _options: PodOptions,
  _env: Readonly<Record<string, string | undefined>>,
  _log: Logger,
  _signals?: NodeJS.EventEmitter,
): Promise<number> {
  throw new Error("pod mode is not wired yet");
}
