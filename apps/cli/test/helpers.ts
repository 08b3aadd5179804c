import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT, scratchDir } from "@contrast/testkit";
import { run } from "../src/cli.js";

export const REPO = REPO_ROOT;
export const MANIFESTS = join(REPO, "testdata/manifests");
export const BUNDLE = join(REPO, "apps/cli/dist/contrast.cjs");

/** A scratch directory, removed after the test (or the file) that made it. */
export const tempDir = (): string => scratchDir("contrast-cli-test-");

class Capture {
  text = "";
  constructor(readonly isTTY: boolean) {}
  write(chunk: string) {
    this.text += chunk;
    return true;
  }
}

/** Runs the CLI in-process with captured streams. */
export async function cli(
  argv: string[],
  options: { tty?: boolean; cwd?: string; env?: Record<string, string> } = {},
): Promise<{ status: number; stdout: string; stderr: string }> {
  const stdout = new Capture(options.tty ?? false);
  const stderr = new Capture(options.tty ?? false);
  const status = await run(argv, { stdout, stderr, cwd: options.cwd ?? REPO, env: options.env ?? { NO_COLOR: "1" } });
  return { status, stdout: stdout.text, stderr: stderr.text };
}

/** Runs the built CLI bundle in `cwd` as a user would (a separate node process, no colour). */
export function runBundle(
  cwd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BUNDLE, ...args], {
    cwd,
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
    env: { ...env, NO_COLOR: "1" },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
