import { RegoError } from "../errors.js";
import { formatValue } from "../format.js";
import { type RObject, RSet } from "../values.js";
import { type BuiltinTable, failOperand, object } from "./registry.js";

// Built-ins we know but refuse: the library does no I/O. They exist so that `with http.send as
// mock` works in tests, and a call says why it cannot run instead of "could not find function".

const HTTP_KEYS = new Set([
  "method",
  "url",
  "body",
  "enable_redirect",
  "force_json_decode",
  "force_yaml_decode",
  "headers",
  "raw_body",
  "tls_use_system_certs",
  "tls_ca_cert",
  "tls_ca_cert_file",
  "tls_ca_cert_env_variable",
  "tls_client_cert",
  "tls_client_cert_file",
  "tls_client_cert_env_variable",
  "tls_client_key",
  "tls_client_key_file",
  "tls_client_key_env_variable",
  "tls_insecure_skip_verify",
  "tls_server_name",
  "timeout",
  "cache",
  "force_cache",
  "force_cache_duration_seconds",
  "raise_error",
  "caching_mode",
  "max_retry_attempts",
  "cache_ignored_headers",
]);

/** OPA's checks of an http.send request object: only known keys, method and url present. */
export function checkHttpRequest(name: string, req: RObject): void {
  const invalid = req.keys().filter((k) => typeof k !== "string" || !HTTP_KEYS.has(k));
  if (invalid.length > 0) {
    failOperand(name, 1, `invalid request parameters(s): ${formatValue(RSet.from(invalid))}`);
  }
  const missing = ["method", "url"].filter((k) => !req.has(k));
  if (missing.length > 0) {
    failOperand(name, 1, `missing required request parameters(s): ${formatValue(RSet.from(missing))}`);
  }
}

function refuse(name: string, why: string): never {
  throw new RegoError("REGO_UNKNOWN_FUNCTION", `unknown builtin ${name}: ${why}`, undefined, {
    hint: `${name} is not supported (docs/rego.md, "Built-ins"); mock it in tests with \`with ${name} as …\`.`,
  });
}

export const REFUSED_BUILTINS: BuiltinTable = {
  "http.send": {
    arity: 1,
    fn: (a) => {
      // The request is checked as OPA checks it, so a malformed one reports what is wrong.
      checkHttpRequest("http.send", object("http.send", a, 0));
      return refuse("http.send", "@contrast/rego makes no network requests");
    },
  },
  "net.lookup_ip_addr": {
    arity: 1,
    fn: () => refuse("net.lookup_ip_addr", "@contrast/rego makes no DNS lookups"),
  },
};
