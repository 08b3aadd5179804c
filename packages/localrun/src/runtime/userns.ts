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
 * stdio passed through, and resolves with its exit status. The child runs in a process group of
 * its own, so a Ctrl-C reaches it once: this process forwards SIGINT, SIGTERM and SIGHUP to it
 * (unshare itself ignores them and would not pass them on). If this process dies, unshare gets
 * SIGKILL (parent-death signal) and `--kill-child` takes the child with it; the namespaces, and
 * everything the child left in them, vanish with it. The child has no controlling terminal
 * (its own session): it may write to the terminal but must not read it.
 */
export async function reexecInUserNamespace(options: ReexecOptions): Promise<number> {
  const host = options.host ?? nodeHost;
  const unshare = host.spawn(
    [
      "setpriv",
      "--pdeathsig",
      "KILL",
      "--",
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
    {
      env: { ...options.env, [USERNS_MARKER_ENV]: "1" },
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
      ownProcessGroup: true,
    },
  );
  const forward = async (signal: NodeJS.Signals): Promise<void> => {
    const children = await host.fs.readFile(`/proc/${unshare.pid}/task/${unshare.pid}/children`).catch(() => undefined);
    const pids = Buffer.from(children ?? new Uint8Array())
      .toString("utf8")
      .split(/\s+/)
      .filter((p) => /^\d+$/.test(p))
      .map(Number);
    // Before unshare has forked there is no child yet; unshare then gets the signal (and dies of
    // SIGINT's default action, taking nothing with it that exists).
    if (pids.length === 0) unshare.kill(signal);
    for (const pid of pids) host.signal(pid, signal);
    options.onSignal?.(signal);
  };
  const handlers = (["SIGINT", "SIGTERM", "SIGHUP"] as const).map((signal) => {
    const handler = (): void => void forward(signal);
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  try {
    const exit = await unshare.exited;
    if (exit.code !== null) return exit.code;
    return 128 + (exit.signal === "SIGKILL" ? 9 : exit.signal === "SIGINT" ? 2 : exit.signal === "SIGHUP" ? 1 : 15);
  } finally {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  }
}
