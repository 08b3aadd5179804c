import { NetfilterError } from "./errors.js";

/**
 * The interception rules as data (docs/service-mesh.md, "Interception"). Upstream's proxy uses the
 * mangle table with TPROXY; Node can neither set IP_TRANSPARENT on a listener nor read a TPROXY
 * socket's destination, so we use the nat table with REDIRECT, whose original destination the
 * proxy reads with SO_ORIGINAL_DST (the addon). The chain names and the order of the checks are
 * upstream's.
 */

export const INBOUND_CHAIN = "CONTRAST_INBOUND";
export const IN_REDIRECT_CHAIN = "CONTRAST_IN_REDIRECT";

/** The ingress entries as `servicemesh-ingress` gives them (structurally `IngressEntry` of `@contrast/kube`). */
export interface InterceptedPort {
  readonly port: number;
  /** true: passthrough, no TLS (not redirected); false: TLS without client authentication (to the `tls` port). */
  readonly disableTLS: boolean;
}

export interface ProxyPorts {
  /** Where everything not listed goes: TLS with a required client certificate (upstream 15006). */
  readonly mtls: number;
  /** Where `disableTLS=false` entries go: TLS without client authentication (upstream 15007). */
  readonly tls: number;
}

/** The proxy ports of upstream's Envoy configuration. */
export const DEFAULT_PROXY_PORTS: ProxyPorts = { mtls: 15006, tls: 15007 };

export type IpFamily = 4 | 6;

/** One rule: its table, its chain and its match/target words, in the order `iptables -S` prints them. */
export interface Rule {
  readonly table: "nat" | "filter";
  readonly chain: string;
  readonly spec: readonly string[];
}

export interface InterceptionPlan {
  readonly family: IpFamily;
  readonly binary: "iptables" | "ip6tables";
  /** The chains that hold the rules, created or flushed, in this order. */
  readonly chains: readonly string[];
  /** The rules of those chains, appended in this order. */
  readonly rules: readonly Rule[];
  /** The jump from nat PREROUTING, added last and only if absent. */
  readonly jump: Rule;
  /**
   * Inserted first in PREROUTING while live chains are rewritten, and removed after: every
   * inbound, non-loopback connection goes to the mTLS port meanwhile (closed, not plaintext).
   */
  readonly guard: Rule;
}

export interface PlanOptions {
  readonly ingress: readonly InterceptedPort[];
  readonly proxyPorts?: ProxyPorts;
  readonly family: IpFamily;
}

/**
 * Plans the nat rules for one address family. In the nat table only a connection's first packet is
 * seen, so established connections need no rule of their own (upstream's conntrack RETURN was for
 * mangle, which sees every packet).
 */
export function planInterception(options: PlanOptions): InterceptionPlan {
  const proxy = options.proxyPorts ?? DEFAULT_PROXY_PORTS;
  checkPort(proxy.mtls, "the mTLS proxy port");
  checkPort(proxy.tls, "the TLS proxy port");
  if (proxy.mtls === proxy.tls) {
    throw new NetfilterError("NETFILTER_PLAN_INVALID", `the mTLS and TLS proxy ports are both ${proxy.mtls}`);
  }
  const seen = new Set<number>();
  const rules: Rule[] = [
    { table: "nat", chain: INBOUND_CHAIN, spec: ["-i", "lo", "-p", "tcp", "-j", "RETURN"] },
    { table: "nat", chain: INBOUND_CHAIN, spec: ["-p", "tcp", "-j", IN_REDIRECT_CHAIN] },
  ];
  for (const entry of options.ingress) {
    checkPort(entry.port, "an ingress port");
    if (seen.has(entry.port)) {
      throw new NetfilterError("NETFILTER_PLAN_INVALID", `ingress port ${entry.port} is configured twice`);
    }
    seen.add(entry.port);
    const target = entry.disableTLS ? ["-j", "RETURN"] : ["-j", "REDIRECT", "--to-ports", String(proxy.tls)];
    rules.push({
      table: "nat",
      chain: IN_REDIRECT_CHAIN,
      spec: ["-p", "tcp", "-m", "tcp", "--dport", String(entry.port), ...target],
    });
  }
  rules.push({
    table: "nat",
    chain: IN_REDIRECT_CHAIN,
    spec: ["-p", "tcp", "-j", "REDIRECT", "--to-ports", String(proxy.mtls)],
  });
  return {
    family: options.family,
    binary: binaryFor(options.family),
    chains: [INBOUND_CHAIN, IN_REDIRECT_CHAIN],
    rules,
    jump: { table: "nat", chain: "PREROUTING", spec: ["-p", "tcp", "-j", INBOUND_CHAIN] },
    guard: {
      table: "nat",
      chain: "PREROUTING",
      spec: ["!", "-i", "lo", "-p", "tcp", "-j", "REDIRECT", "--to-ports", String(proxy.mtls)],
    },
  };
}

/**
 * The pod VM image's default-deny rule (reference §8.4): new inbound connections are dropped until
 * a Contrast component removes it. `-S` prints the states as `RELATED,ESTABLISHED`; `-C`/`-D`
 * compare them as a set.
 */
export const DEFAULT_DENY_RULE: Rule = {
  table: "filter",
  chain: "INPUT",
  spec: ["-m", "conntrack", "!", "--ctstate", "RELATED,ESTABLISHED", "-j", "DROP"],
};

export function binaryFor(family: IpFamily): "iptables" | "ip6tables" {
  return family === 4 ? "iptables" : "ip6tables";
}

/** The rule as `iptables -S` prints it: `-A CHAIN words...`. */
export function ruleText(rule: Rule): string {
  return ["-A", rule.chain, ...rule.spec].join(" ");
}

function checkPort(port: number, what: string): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new NetfilterError("NETFILTER_PLAN_INVALID", `${what} is ${port}, not a port number 1-65535`);
  }
}
