import type { ErrorCodeInfo } from "@contrast/core";

/** Every code the netfilter package reports. docs/errors.md is generated from this list. */
export const NETFILTER_ERROR_CODES = [
  {
    code: "NETFILTER_PLAN_INVALID",
    kind: "input",
    meaning: "The interception cannot be planned: a port is out of range, or two entries or the proxy's ports collide.",
    hint: "Check the servicemesh-ingress annotation and the proxy ports: every port 1-65535, each configured once.",
  },
  {
    code: "NETFILTER_IPTABLES_MISSING",
    kind: "io",
    meaning: "iptables or ip6tables is not installed where the service mesh runs.",
    hint: "Install iptables (the service-mesh image ships it); ip6tables comes with the same package.",
  },
  {
    code: "NETFILTER_PERMISSION_DENIED",
    kind: "io",
    meaning: "iptables refused to change the rules: the process lacks CAP_NET_ADMIN.",
    hint: "Run the service-mesh sidecar with the NET_ADMIN capability (contrast generate adds it) or as root.",
  },
  {
    code: "NETFILTER_COMMAND_FAILED",
    kind: "io",
    meaning: "An iptables or ip6tables command failed for a reason other than permissions.",
    hint: "Read iptables' message in the error; the kernel may lack the nat table or conntrack (nf_nat, nf_conntrack).",
  },
  {
    code: "NETFILTER_ADDON_UNAVAILABLE",
    kind: "io",
    meaning: "The native addon that reads a redirected connection's original destination cannot be loaded.",
    hint: "Build it (pnpm build compiles it with node-gyp) and keep original_dst.node next to the service-mesh bundle.",
  },
  {
    code: "NETFILTER_NOT_REDIRECTED",
    kind: "input",
    meaning: "The connection has no netfilter connection-tracking entry, so it has no original destination.",
    hint: "Only connections that the CONTRAST_IN_REDIRECT rules redirected to the proxy have one; check the nat rules.",
  },
  {
    code: "NETFILTER_PROXY_LOOP",
    kind: "input",
    meaning: "A connection's original destination is one of the proxy's own ports; forwarding it would loop.",
    hint: "Nothing to fix in the pod: a client addressed the proxy port directly (upstream sends it to a black hole too).",
  },
  {
    code: "NETFILTER_ORIGINAL_DST_FAILED",
    kind: "io",
    meaning: "Reading a connection's original destination (SO_ORIGINAL_DST) failed.",
    hint: "The socket must be an accepted, still-open TCP connection; connection tracking (nf_conntrack) must be loaded.",
  },
] as const satisfies readonly ErrorCodeInfo[];

export type NetfilterErrorCode = (typeof NETFILTER_ERROR_CODES)[number]["code"];
