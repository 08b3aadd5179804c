import { type Host, nodeHost } from "./host.js";

/** Set in the re-executed process, so it never tries to enter a user namespace again. */
export const USERNS_MARKER_ENV = "CONTRAST_LOCALRUN_USERNS";

export type UserNamespaceCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * Whether this process may create a user namespace with root mapped to itself, plus the network
 * and mount namespaces the runtime needs inside it: the way `contrast demo` runs without root.
 */
export async function userNamespaceAvailable(host: Host = nodeHost): Promise<UserNamespaceCheck> {
  const result = await host.run(
    ["unshare", "--user", "--map-root-user", "--net", "--mount", "--fork", "--", "ip", "link", "set", "lo", "up"],
    { env: host.commandEnv() },
  );
  if (result.code === 0) return { ok: true };
  const why = result.stderr.trim().split("\n").at(-1) ?? "";
  return { ok: false, reason: why === "" ? `unshare exited ${result.code}` : why };
}

/**
 * Whether this process runs inside a user namespace that maps root to another user (the
 * re-executed demo), read from /proc/self/uid_map: the initial namespace maps all 2^32 ids.
 */
export async function insideUserNamespace(host: Host = nodeHost): Promise<boolean> {
  const map = await host.fs.readFile("/proc/self/uid_map");
  if (map === undefined) return false;
  const lines = Buffer.from(map).toString("utf8").trim().split("\n");
  return !(lines.length === 1 && /^\s*0\s+0\s+4294967295\s*$/.test(lines[0] ?? ""));
}

export interface ReexecOptions {
  /** The arguments after the Node binary: the script and its arguments (process.argv.slice(1)). */
  readonly argv: readonly string[];
  /** The child's environment; the marker variable is added. */
  readonly env: Readonly<Record<string, string>>;
  readonly host?: Host;
  /** Called for each of SIGINT/SIGTERM this process gets, after forwarding it to the child. */
  readonly onSignal?: (signal: NodeJS.Signals) => void;
}

/**
 * Runs this program again inside `unshare --user --map-root-user --net --mount --fork`, with
 * stdout and stderr passed through, and resolves with its exit status. SIGINT and SIGTERM are
 * forwarded so the child can clean up; `--kill-child` kills it if this process dies first. The
 * namespaces, and everything the child left in them, vanish when it exits.
 */
export async function reexecInUserNamespace(options: ReexecOptions): Promise<number> {
  const host = options.host ?? nodeHost;
  const child = host.spawn(
    [
      "unshare",
      "--user",
      "--map-root-user",
      "--net",
      "--mount",
      "--fork",
      "--kill-child",
      "--",
      host.nodeBinary(),
      ...options.argv,
    ],
    { env: { ...options.env, [USERNS_MARKER_ENV]: "1" }, stdin: "inherit", stdout: "inherit", stderr: "inherit" },
  );
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
    options.onSignal?.(signal);
  };
  const onInt = (): void => forward("SIGINT");
  const onTerm = (): void => forward("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  try {
    const exit = await child.exited;
    if (exit.code !== null) return exit.code;
    return 128 + (exit.signal === "SIGKILL" ? 9 : exit.signal === "SIGINT" ? 2 : 15);
  } finally {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
  }
}
