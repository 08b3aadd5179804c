// The dependency graph of ARCHITECTURE.md ("Layout"), as an explicit table of allowed edges: a
// package may depend only on the packages listed for it. A new package must be added here, which
// makes its place in the graph a deliberate, reviewed decision. Apps may depend on any package and
// never on another app; tools never on apps' code.
export const ALLOWED_EDGES = {
  core: [],
  x509: ["core"],
  manifest: ["core"],
  attestation: ["core", "x509", "manifest"],
  rego: ["core"],
  oci: ["core"],
  kube: ["core"],
  policy: ["core", "kube", "oci", "rego"],
  "mesh-pki": ["core", "x509", "attestation", "manifest"],
  atls: ["core", "x509", "attestation", "manifest"],
  api: ["core"],
  coordinator: ["core", "api", "atls", "mesh-pki", "manifest", "policy", "attestation", "x509"],
  workload: ["core", "api", "atls"],
  "mesh-proxy": ["core", "x509", "kube"],
  netfilter: ["core"],
  "node-installer": ["core", "manifest"],
  localrun: ["core", "kube", "manifest", "oci", "policy"],
};

export const SCOPE = "@contrast/";

/** True when the table has no cycle; checked by the tests so an edit cannot introduce one. */
export function edgesAreAcyclic(edges = ALLOWED_EDGES) {
  const state = new Map();
  const visit = (name) => {
    if (state.get(name) === "done") return true;
    if (state.get(name) === "active") return false;
    state.set(name, "active");
    for (const dep of edges[name] ?? []) if (!visit(dep)) return false;
    state.set(name, "done");
    return true;
  };
  return Object.keys(edges).every(visit);
}
