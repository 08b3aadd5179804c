import { ContrastError, type ErrorKind } from "@contrast/core";

/** Stable codes of every failure this package reports. Scripts match on these, never on text. */
export type PolicyErrorCode =
  | "POLICY_YAML_INVALID"
  | "POLICY_OBJECT_INVALID"
  | "POLICY_UNSUPPORTED_FIELD"
  | "POLICY_FIELD_INVALID"
  | "POLICY_POD_NAME_MISSING"
  | "POLICY_CONFIG_REF_MISSING"
  | "POLICY_ENV_UNSUPPORTED"
  | "POLICY_VOLUME_MISSING"
  | "POLICY_VOLUME_UNSUPPORTED"
  | "POLICY_IMAGE_METADATA"
  | "POLICY_IMAGE_REFERENCE_INVALID"
  | "POLICY_SETTINGS_INVALID"
  | "POLICY_SETTINGS_PATCH_FAILED"
  | "POLICY_RULES_INVALID"
  | "POLICY_REQUEST_INVALID"
  | "POLICY_REQUESTS_UNBUILDABLE"
  | "POLICY_ANNOTATION_MISSING"
  | "POLICY_ANNOTATION_INVALID"
  | "POLICY_NO_WORKLOAD"
  | "POLICY_WORKLOAD_AMBIGUOUS"
  | "POLICY_PLATFORM_UNKNOWN"
  | "POLICY_INITDATA_ENCODING"
  | "POLICY_INITDATA_TOO_LARGE"
  | "POLICY_INITDATA_SYNTAX"
  | "POLICY_INITDATA_INVALID"
  | "POLICY_INITDATA_VERSION"
  | "POLICY_INITDATA_ALGORITHM"
  | "POLICY_INITDATA_NO_POLICY"
  | "POLICY_ANNOTATION_CONFLICT"
  | "POLICY_REGO_DIALECT";

export interface PolicyErrorOptions {
  readonly hint: string;
  readonly kind?: ErrorKind;
  readonly cause?: unknown;
  /** JSON path or object path the problem is at, e.g. "Deployment/web: spec.template.spec.foo". */
  readonly path?: string;
  /** The input file (or other source name) the problem is in. */
  readonly file?: string;
  readonly details?: Record<string, unknown>;
}

/** The one error type of @contrast/policy: a ContrastError with a stable code and a hint. */
export class PolicyError extends ContrastError<PolicyErrorCode> {
  readonly path: string | undefined;
  readonly file: string | undefined;
  constructor(code: PolicyErrorCode, message: string, options: PolicyErrorOptions) {
    super(code, message, {
      hint: options.hint,
      kind: options.kind ?? "input",
      ...(options.cause === undefined ? {} : { cause: options.cause }),
      details: {
        ...(options.details ?? {}),
        ...(options.file === undefined ? {} : { file: options.file }),
        ...(options.path === undefined ? {} : { path: options.path }),
      },
    });
    this.path = options.path;
    this.file = options.file;
  }
}
