import type { ErrorCodeInfo } from "@contrast/core";

/**
 * Every code the service-mesh proxy reports: its configuration (the annotation grammars read from
 * the environment, addresses on the command line), its credentials, and its listeners.
 * docs/errors.md is generated from this list.
 */
export const MESH_PROXY_ERROR_CODES = [
  {
    code: "PROXY_CONFIG_INVALID",
    kind: "input",
    meaning:
      "CONTRAST_INGRESS_PROXY_CONFIG, CONTRAST_EGRESS_PROXY_CONFIG or CONTRAST_ADMIN_PORT does not follow its grammar; every bad entry is listed.",
    hint: "Fix the servicemesh annotations of the workload (contrast generate checks them) and regenerate: ingress name#port#true|false, egress name#127.x.y.z:port#host:port, admin a port number.",
  },
  {
    code: "PROXY_ADDRESS_INVALID",
    kind: "input",
    meaning: "A listen or upstream address is not HOST:PORT (IPv6 as [ADDR]:PORT) with a port between 1 and 65535.",
    hint: "Write addresses as 127.0.0.1:8080, [::1]:8080 or app.internal:8080.",
  },
  {
    code: "PROXY_CREDENTIALS_INVALID",
    kind: "crypto",
    meaning:
      "The mesh credentials cannot be used: a PEM file is missing or malformed, the key is not the certificate's, or the mesh CA is not a CA certificate.",
    hint: "The initializer writes certChain.pem, key.pem and mesh-ca.pem to /contrast/tls-config; check that it ran and the directory is the right one (--tls-dir).",
  },
  {
    code: "PROXY_LISTEN_FAILED",
    kind: "io",
    meaning: "A listener could not bind its address (in use, not local, or not permitted).",
    hint: "Check that no other process uses the port and that the address belongs to this host or pod.",
  },
  {
    code: "PROXY_TARGET_REFUSED",
    kind: "policy",
    meaning:
      "An accepted connection has no destination the proxy may forward it to, so it is closed before its handshake.",
    hint: "In a pod, only connections redirected by the proxy's iptables rules have a destination; connect to the application's port, not to 15006 or 15007.",
  },
  {
    code: "PROXY_FLAG_INVALID",
    kind: "input",
    meaning: "A command-line flag of the service-mesh program is missing or has a value it cannot use.",
    hint: "Run service-mesh --help (or service-mesh ingress --help) for the flags.",
  },
] as const satisfies readonly ErrorCodeInfo[];

export type MeshProxyErrorCode = (typeof MESH_PROXY_ERROR_CODES)[number]["code"];
