import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { ContrastError } from "@contrast/core";
import {
  type LocalCluster,
  reexecInUserNamespace,
  USERNS_MARKER_ENV,
  userNamespaceAvailable,
} from "@contrast/localrun";
import type { Outcome } from "../command-spec.js";
import type { Context } from "../context.js";
import { cliError } from "../coordinator/errors.js";
import { runDemo } from "../demo/flow.js";
import { Narrator } from "../demo/narrator.js";
import { checkDemoTools } from "../demo/preflight.js";
import { findDemoSource } from "../demo/source.js";
import { demoPaths, prepareDemoDir } from "../demo/workspace.js";
import { VERSION } from "../version.js";

export interface DemoOptions {
  readonly dir?: string;
  readonly keep?: boolean;
  readonly nonInteractive?: boolean;
  readonly sourceDir?: string;
  readonly userNamespace?: boolean;
  readonly stepTimeout?: string;
}

/**
 * `contrast demo`: the whole flow on this machine (demo/flow.ts). This body is the wiring: it
 * re-executes itself in a user namespace when it is not root, finds the checkout, prepares the
 * directory, and makes Ctrl-C and SIGTERM clean up (every process, namespace and link) before the
 * process ends.
 */
export async function demo(ctx: Context, opts: DemoOptions): Promise<Outcome> {
  const stepTimeoutMs = seconds(opts.stepTimeout ?? "120") * 1000;
  checkDemoTools(ctx.env.PATH);
  const inside = ctx.env[USERNS_MARKER_ENV] === "1";
  const root = process.getuid?.() === 0;
  if (!inside && (!root || opts.userNamespace === true)) {
    const check = await userNamespaceAvailable();
    if (!check.ok) {
      throw cliError(
        "CLI_DEMO_USERNS_UNAVAILABLE",
        `${root ? "--user-namespace" : "not root"}: no unprivileged user namespace (${check.reason})`,
        { details: { reason: check.reason } },
      );
    }
    if (!ctx.out.json) {
      process.stderr.write(
        `${root ? "--user-namespace" : "Not root"}: running the demo in a user namespace (unshare --user --map-root-user --net --mount)\n`,
      );
    }
    // The child prints everything, its JSON document included; this process only passes on its status.
    const status = await reexecInUserNamespace({ argv: process.argv.slice(1), env: definedEnv(ctx.env) });
    process.exit(status);
  }

  const source = findDemoSource(opts.sourceDir === undefined ? undefined : resolve(ctx.cwd, opts.sourceDir), [
    dirname(process.argv[1] ?? ctx.cwd),
    ctx.cwd,
  ]);
  const paths = demoPaths(resolve(ctx.cwd, opts.dir ?? "contrast-demo"));
  await prepareDemoDir(paths.dir, () => readFile("/proc/self/mountinfo", "utf8"));

  const narrator = new Narrator(ctx.out, { progress: opts.nonInteractive !== true });
  const cleanup = new Cleanup();
  let stopRequested: (() => void) | undefined;
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) {
      process.stderr.write(`${signal} again: exiting without finishing the clean-up\n`);
      process.exit(exitStatus(signal));
    }
    signalled = true;
    // With --keep, a signal is the expected end: the flow cleans up as its last step.
    if (stopRequested !== undefined) {
      stopRequested();
      return;
    }
    void cleanup.run().then(() => {
      const err = cliError(
        "CLI_DEMO_INTERRUPTED",
        `stopped by ${signal}; the demo's processes and namespaces are removed`,
      );
      if (ctx.out.json) ctx.out.document(false, { error: err.toJSON(), steps: narrator.steps });
      else ctx.out.error(err);
      process.exit(exitStatus(signal));
    });
  };
  // SIGHUP too: a closed terminal must not leave the pods behind.
  for (const signal of SIGNALS) process.on(signal, onSignal);
  try {
    return await runDemo(ctx, narrator, {
      paths,
      source,
      version: VERSION,
      cliCommand: `node ${shortPath(ctx.cwd, process.argv[1] ?? "contrast.cjs")}`,
      stepTimeoutMs,
      keep: opts.keep === true,
      rootless: inside,
      onCluster: (cluster: LocalCluster) => cleanup.add(() => cluster.close()),
      untilStopped: () =>
        new Promise<void>((resolveStop) => {
          // A timer keeps the event loop alive until the signal.
          const alive = setInterval(() => {}, 60_000);
          stopRequested = () => {
            clearInterval(alive);
            resolveStop();
          };
        }),
    });
  } catch (e) {
    const err = ContrastError.from(e);
    throw new ContrastError(err.code, err.message, {
      kind: err.kind,
      ...(err.hint === undefined ? {} : { hint: err.hint }),
      cause: err,
      details: { ...(err.details ?? {}), steps: narrator.steps },
    });
  } finally {
    await cleanup.run();
    for (const signal of SIGNALS) process.off(signal, onSignal);
  }
}

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/** The shell's status for a death by `signal`: 128 + its number. */
function exitStatus(signal: NodeJS.Signals): number {
  return signal === "SIGINT" ? 130 : signal === "SIGHUP" ? 129 : 143;
}

/** Clean-up actions, run once, in reverse order of registration, whoever asks first. */
class Cleanup {
  private readonly actions: (() => Promise<void>)[] = [];
  private running: Promise<void> | undefined;

  add(action: () => Promise<void>): void {
    this.actions.push(action);
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      for (const action of this.actions.reverse()) {
        await action().catch((e: unknown) => {
          process.stderr.write(`clean-up failed: ${e instanceof Error ? e.message : String(e)}\n`);
        });
      }
    })();
    return this.running;
  }
}

function seconds(text: string): number {
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || n < 1 || n > 3600) {
    throw cliError("CLI_USAGE", `--step-timeout ${JSON.stringify(text)} is not 1..3600 seconds`);
  }
  return n;
}

/** `file` relative to `cwd` when it lies below it, else as it is. */
function shortPath(cwd: string, file: string): string {
  const rel = relative(cwd, file);
  return rel === "" || rel.startsWith("..") || isAbsolute(rel) ? file : rel;
}

function definedEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}
