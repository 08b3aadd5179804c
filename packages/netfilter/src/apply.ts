import { type Logger, noopLogger } from "@contrast/core";
import { NetfilterError } from "./errors.js";
import {
  binaryFor,
  DEFAULT_DENY_RULE,
  DEFAULT_PROXY_PORTS,
  INBOUND_CHAIN,
  type InterceptedPort,
  type InterceptionPlan,
  type IpFamily,
  type ProxyPorts,
  planInterception,
  type Rule,
  ruleText,
} from "./rules.js";
import type { IptablesRunner, RunResult } from "./runner.js";

export interface InterceptionOptions {
  readonly ingress: readonly InterceptedPort[];
  readonly proxyPorts?: ProxyPorts;
  readonly runner: IptablesRunner;
  /** Address families to intercept (default both: a pod with IPv6 must not expose plaintext ports on it). */
  readonly families?: readonly IpFamily[];
  /** Remove the default-deny rule once every family's rules are in place (default true). */
  readonly removeDefaultDeny?: boolean;
  readonly log?: Logger;
}

export interface InterceptionReport {
  /** Per family: whether the chains had to be (re)written, or already held the planned rules. */
  readonly families: readonly { readonly family: IpFamily; readonly rewritten: boolean; readonly jumpAdded: boolean }[];
  /** Per family: whether a default-deny rule was found and removed. */
  readonly defaultDenyRemoved: readonly { readonly family: IpFamily; readonly removed: boolean }[];
}

const FAMILIES: readonly IpFamily[] = [4, 6];

/**
 * Installs the interception rules for every family, then (only then) removes the default-deny
 * rule. Idempotent: chains that already hold exactly the planned rules are left alone (no window
 * in which a restarted proxy's pod forwards plaintext), the PREROUTING jump is added only when
 * `-C` does not find it, and a second run changes nothing. On a fresh pod the chains are filled
 * before the jump exists; chains that are live but differ (a changed configuration, which
 * Kubernetes only gives to a new pod) are refilled behind a guard rule at the top of PREROUTING
 * that sends every inbound connection to the mTLS port meanwhile.
 */
export async function setUpInterception(options: InterceptionOptions): Promise<InterceptionReport> {
  const log = options.log ?? noopLogger;
  const families = options.families ?? FAMILIES;
  // Plan every family before touching anything, so a bad port changes no rule.
  const plans = families.map((family) =>
    planInterception({
      ingress: options.ingress,
      family,
      ...(options.proxyPorts ? { proxyPorts: options.proxyPorts } : {}),
    }),
  );
  const report: { family: IpFamily; rewritten: boolean; jumpAdded: boolean }[] = [];
  for (const plan of plans) {
    const result = await applyPlan(plan, options.runner);
    log.info("interception rules in place", { family: plan.family, ...result });
    report.push({ family: plan.family, ...result });
  }
  const removed: { family: IpFamily; removed: boolean }[] = [];
  if (options.removeDefaultDeny !== false) {
    for (const family of families) {
      const wasThere = await removeDefaultDeny(options.runner, [family]);
      if (wasThere) log.info("default-deny rule removed", { family });
      removed.push({ family, removed: wasThere });
    }
  }
  return { families: report, defaultDenyRemoved: removed };
}

async function applyPlan(
  plan: InterceptionPlan,
  runner: IptablesRunner,
): Promise<{ rewritten: boolean; jumpAdded: boolean }> {
  const run = checked(runner, plan.binary);
  const current = new Map<string, string[] | undefined>();
  for (const chain of plan.chains) {
    const listed = await run(["-t", "nat", "-S", chain], [1]);
    current.set(chain, listed.code === 0 ? chainRules(listed.stdout, chain) : undefined);
  }
  const wanted = (chain: string) => plan.rules.filter((r) => r.chain === chain).map(ruleText);
  const upToDate = plan.chains.every((chain) => sameLines(current.get(chain), wanted(chain)));
  // A guard left by a run that died while rewriting goes first (it sends everything to mTLS).
  for (let i = 0; i < 16 && (await exists(run, plan.guard)); i++) {
    await run(["-t", "nat", "-D", plan.guard.chain, ...plan.guard.spec]);
  }
  if (!upToDate) {
    // Live chains (the jump exists) are rewritten behind the guard, so that during the rewrite
    // every inbound connection goes to the mTLS port: closed, never plaintext.
    const live = plan.chains.every((chain) => current.get(chain) !== undefined) && (await exists(run, plan.jump));
    if (live) await run(["-t", "nat", "-I", plan.guard.chain, "1", ...plan.guard.spec]);
    for (const chain of plan.chains) {
      await run(["-t", "nat", current.get(chain) === undefined ? "-N" : "-F", chain]);
    }
    for (const rule of plan.rules) await run(["-t", rule.table, "-A", rule.chain, ...rule.spec]);
    if (live) await run(["-t", "nat", "-D", plan.guard.chain, ...plan.guard.spec]);
  }
  const jumpAdded = await ensureRule(run, plan.jump, "-A");
  return { rewritten: !upToDate, jumpAdded };
}

/** Removes the default-deny rule (every copy) where present; true when one was found. */
export async function removeDefaultDeny(
  runner: IptablesRunner,
  families: readonly IpFamily[] = FAMILIES,
): Promise<boolean> {
  let found = false;
  for (const family of families) {
    const run = checked(runner, binaryFor(family));
    // Bounded: a rule that -D cannot remove would otherwise loop forever.
    for (let i = 0; i < 16 && (await exists(run, DEFAULT_DENY_RULE)); i++) {
      await run(["-t", DEFAULT_DENY_RULE.table, "-D", DEFAULT_DENY_RULE.chain, ...DEFAULT_DENY_RULE.spec]);
      found = true;
    }
  }
  return found;
}

/** Installs the default-deny rule at the top of INPUT, as the pod VM image does (tests, demos); idempotent. */
export async function installDefaultDeny(
  runner: IptablesRunner,
  families: readonly IpFamily[] = FAMILIES,
): Promise<void> {
  for (const family of families) await ensureRule(checked(runner, binaryFor(family)), DEFAULT_DENY_RULE, "-I");
}

/** Removes the PREROUTING jump and both chains (tests, and a sidecar that is switched off); idempotent. */
export async function removeInterception(
  runner: IptablesRunner,
  families: readonly IpFamily[] = FAMILIES,
  proxyPorts: ProxyPorts = DEFAULT_PROXY_PORTS,
): Promise<void> {
  for (const family of families) {
    const plan = planInterception({ ingress: [], family, proxyPorts });
    const run = checked(runner, plan.binary);
    for (let i = 0; i < 16 && (await exists(run, plan.guard)); i++) {
      await run(["-t", "nat", "-D", plan.guard.chain, ...plan.guard.spec]);
    }
    // Without its target chain the jump cannot exist, and -C would fail (status 2).
    if ((await run(["-t", "nat", "-S", INBOUND_CHAIN], [1])).code === 1) continue;
    for (let i = 0; i < 16 && (await exists(run, plan.jump)); i++) {
      await run(["-t", "nat", "-D", plan.jump.chain, ...plan.jump.spec]);
    }
    for (const chain of plan.chains) await run(["-t", "nat", "-F", chain], [1]);
    for (const chain of plan.chains) await run(["-t", "nat", "-X", chain], [1]);
  }
}

type Run = (args: readonly string[], allowed?: readonly number[]) => Promise<RunResult>;

/** A runner for one binary that adds `-w` and turns unexpected exit statuses into errors. */
function checked(runner: IptablesRunner, binary: "iptables" | "ip6tables"): Run {
  return async (args, allowed = []) => {
    const full = ["-w", ...args];
    const result = await runner(binary, full);
    if (result.code === 0 || allowed.includes(result.code)) return result;
    const command = `${binary} ${full.join(" ")}`;
    const message = result.stderr.trim().split("\n")[0] ?? "";
    // iptables reports a missing capability with status 4 and this text (no distinct status).
    if (/permission denied|you must be root/i.test(result.stderr)) {
      throw new NetfilterError("NETFILTER_PERMISSION_DENIED", `${command}: ${message}`);
    }
    throw new NetfilterError("NETFILTER_COMMAND_FAILED", `${command} exited ${result.code}: ${message}`);
  };
}

async function exists(run: Run, rule: Rule): Promise<boolean> {
  // -C exits 1 when the rule is absent (and when its chain is, which for built-in chains is never).
  return (await run(["-t", rule.table, "-C", rule.chain, ...rule.spec], [1])).code === 0;
}

async function ensureRule(run: Run, rule: Rule, how: "-A" | "-I"): Promise<boolean> {
  if (await exists(run, rule)) return false;
  await run(["-t", rule.table, how, rule.chain, ...rule.spec]);
  return true;
}

function chainRules(listing: string, chain: string): string[] {
  return listing
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && line !== `-N ${chain}`);
}

function sameLines(current: readonly string[] | undefined, wanted: readonly string[]): boolean {
  return current !== undefined && current.length === wanted.length && current.every((line, i) => line === wanted[i]);
}
