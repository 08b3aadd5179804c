// Which of OPA's conformance folders measure the language and built-ins @contrast/rego means to
// cover ("in scope") and which test a family we implement only where cheap, or refuse. The
// in-scope pass rate is the figure the package is held to; out-of-scope folders still run and
// still have their failures listed, so a change in them is noticed.

/** Folder name (without v0/ or v1/) prefixes of out-of-scope families, with the reason. */
export const OUT_OF_SCOPE: readonly (readonly [prefix: string, reason: string])[] = [
  ["crypto", "crypto.* (hashes, HMAC, X.509, RSA keys): a family implemented only where cheap"],
  ["jwt", "io.jwt.*: token decoding and signatures, implemented only where cheap"],
  ["net", "net.cidr_* and net.lookup_ip_addr: network family"],
  ["semver", "semver.*: versions family"],
  ["graphql", "graphql.*: GraphQL parsing"],
  ["jsonschema", "json.verify_schema / json.match_schema: JSON Schema family"],
  ["providers-aws", "providers.aws.sign_req: request signing"],
  ["rand", "rand.intn: randomness"],
  ["uuid", "uuid.*: randomness and UUID parsing"],
  ["regometadata", "rego.metadata.*: annotations"],
  ["regoparsemodule", "rego.parse_module: OPA's AST as JSON"],
  ["rendertemplate", "strings.render_template: Go templates"],
];

/** The reason a folder ("v1/jwtbuiltins") is out of scope, or undefined when it is in scope. */
export function outOfScope(folder: string): string | undefined {
  const name = folder.slice(folder.indexOf("/") + 1);
  return OUT_OF_SCOPE.find(([prefix]) => name.startsWith(prefix))?.[1];
}
