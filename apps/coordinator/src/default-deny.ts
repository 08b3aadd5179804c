import { existsSync } from "node:fs";
import { ContrastError, type Logger } from "@contrast/core";
import { execFileRunner, type IptablesRunner, removeDefaultDeny } from "@contrast/netfilter";
import type { CoordinatorConfig } from "./config.js";

/**
 * The pod VM image drops every new inbound connection until a Contrast component lifts its
 * default-deny rule; the Coordinator's pod has no mesh sidecar, so (as upstream) the Coordinator
 * lifts it itself, once its servers listen. `--default-deny`:
 * - `auto` (default): on snp and tdx, remove the rule if present; if iptables is missing or
 *   refuses (no NET_ADMIN), say so and keep running: a machine without iptables has no such rule,
 *   and the Coordinator must not fail to start in environments without it. On sim (a developer's
 *   machine, where the host's firewall is not ours) nothing is touched.
 * - `remove`: remove it on any platform; a failure stops the Coordinator (tests, demos in a netns).
 * - `keep`: never touch it.
 */
export async function liftDefaultDeny(
  config: Pick<CoordinatorConfig, "defaultDeny" | "platform">,
  deps: { readonly log: Logger; readonly iptables?: IptablesRunner | undefined },
): Promise<void> {
  const { log } = deps;
  if (config.defaultDeny === "keep" || (config.defaultDeny === "auto" && config.platform === "sim")) return;
  const families = existsSync("/proc/net/if_inet6") ? ([4, 6] as const) : ([4] as const);
  try {
    const removed = await removeDefaultDeny(deps.iptables ?? execFileRunner(), families);
    log.info(removed ? "default-deny rule removed" : "no default-deny rule, nothing to do");
  } catch (e) {
    if (config.defaultDeny === "remove") throw e;
    log.warn("could not check for the default-deny rule; if this pod VM has one, nothing can reach the Coordinator", {
      error: ContrastError.from(e),
    });
  }
}
