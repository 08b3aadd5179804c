// The dependency direction of ARCHITECTURE.md: a package may depend only on packages of a lower
// layer; apps depend on packages and never on each other; tools never on apps' code. A new
// package must be given a layer here, which makes its place in the graph a deliberate decision.
export const PACKAGE_LAYERS = {
  core: 0,
  manifest: 1,
  attestation: 1,
  rego: 1,
  policy: 2,
  "mesh-pki": 2,
  atls: 2,
  api: 2,
  kube: 2,
};

export const SCOPE = "@contrast/";
