import { isIP } from "node:net";
import {
  type EgressEntry,
  type IngressEntry,
  parseAdminPort,
  parseEgressConfig,
  parseIngressConfig,
} from "@contrast/kube";
import { MeshProxyError } from "./errors.js";

/** A TCP endpoint: an IP address or DNS name, and a port. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** The pod's mesh configuration, from the environment the sidecar was injected with (§2.2.2). */
export interface MeshConfig {
  readonly ingress: readonly IngressEntry[];
  readonly egress: readonly EgressEntry[];
  /** The admin interface's port, when CONTRAST_ADMIN_PORT is set. */
  readonly adminPort: number | undefined;
}

/** The environment variables the sidecar reads, as `generate` injects them. */
export const MESH_ENV = {
  ingress: "CONTRAST_INGRESS_PROXY_CONFIG",
  egress: "CONTRAST_EGRESS_PROXY_CONFIG",
  adminPort: "CONTRAST_ADMIN_PORT",
} as const;

/**
 * Reads the three variables with the grammars `contrast generate` checks. Unlike upstream's proxy,
 * which stops at the first bad entry, every problem of every variable is collected into one
 * PROXY_CONFIG_INVALID, so one restart shows everything to fix. Unset and empty mean "none".
 */
export function meshConfigFromEnv(env: Readonly<Record<string, string | undefined>>): MeshConfig {
  const problems: string[] = [];
  const ingress = parseIngressConfig(env[MESH_ENV.ingress] ?? "");
  for (const p of ingress.problems) problems.push(`${MESH_ENV.ingress}: ${p.message}`);
  const egress = parseEgressConfig(env[MESH_ENV.egress] ?? "");
  for (const p of egress.problems) problems.push(`${MESH_ENV.egress}: ${p.message}`);
  const adminText = env[MESH_ENV.adminPort] ?? "";
  const adminPort = adminText === "" ? undefined : parseAdminPort(adminText);
  if (adminText !== "" && adminPort === undefined) {
    problems.push(`${MESH_ENV.adminPort}: ${JSON.stringify(adminText)} is not a port number (1-65535)`);
  }
  if (problems.length > 0) {
    throw new MeshProxyError(
      "PROXY_CONFIG_INVALID",
      `the service-mesh configuration has ${problems.length} problem(s): ${problems.join("; ")}`,
      { details: { problems } },
    );
  }
  return { ingress: ingress.entries, egress: egress.entries, adminPort };
}

/**
 * Parses `HOST:PORT`, `[IPv6]:PORT`: what the standalone mode's --listen and --upstream take.
 * A bare IPv6 address without brackets is refused: its last group would read as a port. Port 0
 * ("any free port", for a listener) only with `allowPortZero`.
 */
export function parseHostPort(
  text: string,
  what = "address",
  options: { readonly allowPortZero?: boolean } = {},
): HostPort {
  const bad = (why: string) =>
    new MeshProxyError("PROXY_ADDRESS_INVALID", `${what} ${JSON.stringify(text)} ${why}`, { details: { text } });
  let host: string;
  let portText: string;
  if (text.startsWith("[")) {
    const m = /^\[([^\]]+)\]:([^:]*)$/.exec(text);
    if (m === null) throw bad("is not [IPv6]:PORT");
    host = m[1] as string;
    portText = m[2] as string;
    if (isIP(host) !== 6) throw bad("has no IPv6 address between its brackets");
  } else {
    const i = text.lastIndexOf(":");
    if (i <= 0 || text.indexOf(":") !== i) throw bad("is not HOST:PORT");
    host = text.slice(0, i);
    portText = text.slice(i + 1);
    if (!/^[A-Za-z0-9._-]+$/.test(host)) throw bad("has a host that is neither an IP address nor a DNS name");
  }
  if (!/^[0-9]{1,5}$/.test(portText)) throw bad("has no decimal port");
  const port = Number(portText);
  if ((port < 1 && !(port === 0 && options.allowPortZero === true)) || port > 65535) {
    throw bad("has a port outside 1-65535");
  }
  return { host, port };
}

/** `host:port`, bracketing IPv6 addresses, for logs and errors. */
export function formatHostPort({ host, port }: HostPort): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
