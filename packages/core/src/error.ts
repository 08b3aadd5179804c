/**
 * The error base for every failure a user or a calling program can meet.
 *
 * `code` is a stable SCREAMING_SNAKE identifier: programs branch on it, never on `message`.
 * `hint` tells a human what to do next. `kind` separates failures that must be handled
 * differently: a tampered signature (`crypto`) is not the same as a value that does not match a
 * policy (`policy`), and neither is the same as malformed input (`input`).
 */
export type ErrorKind =
  | "input" // malformed or invalid data supplied by the caller
  | "crypto" // a cryptographic check failed: signature, chain, digest binding
  | "policy" // well-formed evidence that does not satisfy the expectations
  | "io" // file system or network trouble
  | "internal"; // a bug: an invariant of ours did not hold

/**
 * One entry of a package's error registry: each package lists every code it reports in an
 * `as const` array of these (its `*_ERROR_CODES`), derives its code union from it, and
 * docs/errors.md is generated from all of them. `hint` is the usual advice; a throw site may give
 * a more specific one.
 */
export interface ErrorCodeInfo {
  readonly code: string;
  readonly kind: ErrorKind;
  /** One sentence: what happened, independent of the instance. */
  readonly meaning: string;
  readonly hint: string;
}

export interface ContrastErrorOptions {
  readonly hint?: string;
  readonly cause?: unknown;
  readonly kind?: ErrorKind;
  /** Structured context for `--output json` and logs (expected/actual values, paths). */
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface SerializedError {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly message: string;
  readonly hint?: string;
  readonly details?: Readonly<Record<string, unknown>>;
  readonly cause?: SerializedError | { readonly message: string };
}

const CODE_PATTERN = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/;

/**
 * The brand every ContrastError carries. It is a registered symbol, so two copies of
 * @contrast/core in one process (a bundled CLI next to a library from node_modules, two versions
 * in one dependency tree) agree on it, and an error thrown by one copy is still a ContrastError to
 * the other. connect-es brands ConnectError the same way.
 */
const BRAND: unique symbol = Symbol.for("@contrast/core.ContrastError");

export class ContrastError<TCode extends string = string> extends Error {
  readonly code: TCode;
  readonly kind: ErrorKind;
  readonly hint: string | undefined;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: TCode, message: string, options: ContrastErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (!CODE_PATTERN.test(code)) {
      // A malformed code would leak into scripts that match on it; fail where it is written.
      throw new TypeError(`invalid error code ${JSON.stringify(code)}`);
    }
    this.name = new.target.name;
    this.code = code;
    this.kind = options.kind ?? "input";
    this.hint = options.hint;
    this.details = options.details;
  }

  /**
   * `x instanceof ContrastError` holds for errors of any copy of this package (by the brand);
   * `x instanceof SomeSubclass` keeps the ordinary prototype check, so a plain ContrastError is
   * not a PolicyError.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // `this` is the class on the right of instanceof (a subclass inherits this method), so it
    // cannot be replaced by the class name here.
    // biome-ignore lint/complexity/noThisInStatic: the receiver decides between brand and prototype check
    // biome-ignore lint/complexity/noUselessThisAlias: named once, used twice below
    const target: unknown = this;
    if (Function.prototype[Symbol.hasInstance].call(target, value)) return true;
    return (
      target === ContrastError &&
      typeof value === "object" &&
      value !== null &&
      (value as { readonly [BRAND]?: unknown })[BRAND] === true
    );
  }

  /**
   * Turns anything thrown into a ContrastError, so a command can always render a code and a hint.
   * Known Node.js system errors get their own codes; everything else is reported as a bug.
   */
  static from(reason: unknown): ContrastError {
    if (reason instanceof ContrastError) return reason;
    if (isSystemError(reason)) return fromSystemError(reason);
    if (reason instanceof Error) {
      if (reason.name === "AbortError") {
        return new ContrastError("ABORTED", "the operation was aborted", {
          kind: "io",
          cause: reason,
          hint: "Run the command again; it was interrupted before it finished.",
        });
      }
      return new ContrastError("INTERNAL", reason.message || reason.name, {
        kind: "internal",
        cause: reason,
        hint: "This is a bug in contrast. Please report it with the output of --log-level debug.",
      });
    }
    return new ContrastError("INTERNAL", `non-error value thrown: ${describe(reason)}`, {
      kind: "internal",
      cause: reason,
      hint: "This is a bug in contrast. Please report it with the output of --log-level debug.",
    });
  }

  toJSON(): SerializedError {
    const out: {
      -readonly [K in keyof SerializedError]: SerializedError[K];
    } = { code: this.code, kind: this.kind, message: this.message };
    if (this.hint !== undefined) out.hint = this.hint;
    if (this.details !== undefined) out.details = this.details;
    if (this.cause instanceof ContrastError) out.cause = this.cause.toJSON();
    else if (this.cause instanceof Error) out.cause = { message: this.cause.message };
    return out;
  }
}

// On the prototype, not the instance: the brand stays out of own keys, JSON and deep equality.
Object.defineProperty(ContrastError.prototype, BRAND, { value: true, enumerable: false });

/** Type guard that also narrows on a specific code. */
export function isContrastError<T extends string>(value: unknown, code?: T): value is ContrastError<T> {
  return value instanceof ContrastError && (code === undefined || value.code === code);
}

interface SystemError extends Error {
  code: string;
  path?: string;
  syscall?: string;
}

function isSystemError(value: unknown): value is SystemError {
  return (
    value instanceof Error &&
    typeof (value as { code?: unknown }).code === "string" &&
    typeof (value as { syscall?: unknown }).syscall === "string"
  );
}

const SYSTEM_ERRORS: Readonly<Record<string, { code: string; what: string; hint: string }>> = {
  ENOENT: {
    code: "FILE_NOT_FOUND",
    what: "no such file or directory",
    hint: "Check that the path exists and is spelled correctly.",
  },
  EACCES: {
    code: "FILE_PERMISSION_DENIED",
    what: "permission denied",
    hint: "Check the file's owner and mode, or run as a user that may read it.",
  },
  EPERM: {
    code: "FILE_PERMISSION_DENIED",
    what: "operation not permitted",
    hint: "Check the file's owner and mode, or run as a user that may change it.",
  },
  EISDIR: {
    code: "FILE_IS_DIRECTORY",
    what: "is a directory",
    hint: "Pass a file, not a directory.",
  },
  ENOTDIR: {
    code: "FILE_NOT_DIRECTORY",
    what: "a path component is not a directory",
    hint: "Check the path.",
  },
  EEXIST: {
    code: "FILE_EXISTS",
    what: "file already exists",
    hint: "Remove the file or choose another path.",
  },
  ENOSPC: {
    code: "DISK_FULL",
    what: "no space left on device",
    hint: "Free some disk space and run the command again.",
  },
  ECONNREFUSED: {
    code: "NETWORK_CONNECTION_REFUSED",
    what: "connection refused",
    hint: "Check the address and that the service is running and reachable.",
  },
  ETIMEDOUT: {
    code: "NETWORK_TIMEOUT",
    what: "connection timed out",
    hint: "Check the address and the network path to the service.",
  },
  ENOTFOUND: {
    code: "NETWORK_HOST_NOT_FOUND",
    what: "host not found",
    hint: "Check the host name and DNS.",
  },
};

function fromSystemError(err: SystemError): ContrastError {
  const known = SYSTEM_ERRORS[err.code];
  const where = err.path === undefined ? "" : `${err.path}: `;
  if (known === undefined) {
    return new ContrastError("IO_ERROR", `${where}${err.message}`, {
      kind: "io",
      cause: err,
      hint: "An operating system call failed; the message names it.",
      details: { errno: err.code, syscall: err.syscall },
    });
  }
  return new ContrastError(known.code, `${where}${known.what}`, {
    kind: "io",
    cause: err,
    hint: known.hint,
    details: { errno: err.code, syscall: err.syscall, ...(err.path ? { path: err.path } : {}) },
  });
}

function describe(value: unknown): string {
  try {
    return typeof value === "string" ? JSON.stringify(value) : String(value);
  } catch {
    return typeof value;
  }
}
