export {
  type InterceptionOptions,
  type InterceptionReport,
  installDefaultDeny,
  removeDefaultDeny,
  removeInterception,
  setUpInterception,
} from "./apply.js";
export { NETFILTER_ERROR_CODES, type NetfilterErrorCode } from "./error-codes.js";
export { NetfilterError } from "./errors.js";
export {
  ADDON_FILE_NAME,
  type AddonOptions,
  type OriginalDestination,
  originalDestination,
  originalDestinationAvailable,
  type RedirectTargetOptions,
  redirectTarget,
} from "./original-dst.js";
export {
  DEFAULT_DENY_RULE,
  DEFAULT_PROXY_PORTS,
  IN_REDIRECT_CHAIN,
  INBOUND_CHAIN,
  type InterceptedPort,
  type InterceptionPlan,
  type IpFamily,
  type PlanOptions,
  type ProxyPorts,
  planInterception,
  type Rule,
  ruleText,
} from "./rules.js";
export { type ExecFileRunnerOptions, execFileRunner, type IptablesRunner, type RunResult } from "./runner.js";
