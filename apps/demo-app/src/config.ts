import { parseArgs } from "node:util";
import { AdmissionError } from "@contrast/localrun";

export type Role = "frontend" | "backend";

export interface DemoAppConfig {
  readonly role: Role;
  readonly port: number;
  /** The address to listen on; undefined: every address (dual-stack where the kernel has IPv6). */
  readonly host: string | undefined;
  /** The frontend's backend: the service mesh's egress listener, plaintext inside the pod. */
  readonly backendUrl: string;
  /** The pod's name as the runtime sets HOSTNAME. */
  readonly pod: string;
  readonly logLevel: "debug" | "info" | "warn" | "error";
}

/**
 * Where the frontend reaches the backend: the egress listener the frontend's
 * `servicemesh-egress` annotation declares (`backend#127.137.0.1:8081#backend:8080`). The mesh
 * carries the plaintext request over mTLS to the backend pod.
 */
export const DEFAULT_BACKEND_URL = "http://127.137.0.1:8081/";
export const DEFAULT_PORT = 8080;

export const USAGE = `Usage: demo-app <frontend|backend> [options]

The sample app of \`contrast demo\`.
  backend    answers GET / with {"service":"backend","pod":...,"time":...}
  frontend   answers GET / by calling the backend through the service mesh's egress

Options:
  --port <n>          port to listen on (env PORT; default ${DEFAULT_PORT})
  --host <addr>       address to listen on (default: all)
  --backend <url>     the frontend's backend (env BACKEND_URL; default ${DEFAULT_BACKEND_URL})
  -l, --log-level <l> debug, info, warn or error (default info)
  -h, --help          this text
  --version           the version
`;

function usage(message: string): AdmissionError {
  return new AdmissionError("LOCALRUN_DEMO_APP_USAGE", message);
}

export type Parsed =
  | { readonly kind: "run"; readonly config: DemoAppConfig }
  | { readonly kind: "print"; readonly text: string };

export function parseCommandLine(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  version: string,
): Parsed {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    throw usage(e instanceof Error ? e.message : String(e));
  }
  const { values, positionals } = parsed;
  if (values.help === true) return { kind: "print", text: USAGE };
  if (values.version === true) return { kind: "print", text: `demo-app ${version}\n` };
  const [role, ...rest] = positionals;
  if (role !== "frontend" && role !== "backend")
    throw usage(`the first argument is the role, frontend or backend (got ${JSON.stringify(role ?? "")})`);
  if (rest.length > 0) throw usage(`unexpected argument ${JSON.stringify(rest[0])}`);
  const portText = values.port ?? env.PORT ?? String(DEFAULT_PORT);
  const port = /^[0-9]{1,5}$/.test(portText) ? Number(portText) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) throw usage(`port ${JSON.stringify(portText)} is not a port number`);
  const backendUrl = values.backend ?? env.BACKEND_URL ?? DEFAULT_BACKEND_URL;
  try {
    const u = new URL(backendUrl);
    if (u.protocol !== "http:") throw new Error("not http");
  } catch {
    throw usage(`backend ${JSON.stringify(backendUrl)} is not an http:// URL`);
  }
  const level = values["log-level"] ?? "info";
  if (level !== "debug" && level !== "info" && level !== "warn" && level !== "error") {
    throw usage(`log level ${JSON.stringify(level)} is not debug, info, warn or error`);
  }
  return {
    kind: "run",
    config: {
      role,
      port,
      host: values.host,
      backendUrl,
      pod: env.HOSTNAME ?? "unknown",
      logLevel: level,
    },
  };
}

const OPTIONS = {
  port: { type: "string" },
  host: { type: "string" },
  backend: { type: "string" },
  "log-level": { type: "string", short: "l" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
} as const;
