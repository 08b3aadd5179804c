import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, sep } from "node:path";
import { cliError } from "../coordinator/errors.js";

/** The file that marks a directory as the demo's own, so a later run may empty it. */
export const DEMO_MARKER = ".contrast-demo";

/** The demo's layout under --dir; nothing is written anywhere else. */
export function demoPaths(dir: string) {
  return {
    dir,
    images: join(dir, "images"),
    resources: join(dir, "resources"),
    tampered: join(dir, "tampered"),
    imageReplacements: join(dir, "image-replacements.txt"),
    sim: join(dir, "sim"),
    cluster: join(dir, "cluster"),
    verify: join(dir, "verify"),
  } as const;
}

export type DemoPaths = ReturnType<typeof demoPaths>;

/**
 * Makes `dir` ready for a new run: created when missing; an earlier run's directory (it has the
 * marker) is emptied; any other non-empty directory is refused (CLI_DEMO_DIR_NOT_EMPTY). A
 * directory with anything mounted under it is refused too: emptying it would reach into the mount.
 */
export async function prepareDemoDir(
  dir: string,
  mountinfo: () => Promise<string>,
  self: { readonly pid: number; readonly alive: (pid: number) => boolean } = {
    pid: process.pid,
    alive: processAlive,
  },
): Promise<void> {
  await mkdir(dir, { recursive: true });
  const entries = await readdir(dir);
  if (entries.length > 0) {
    if (!entries.includes(DEMO_MARKER)) {
      throw cliError(
        "CLI_DEMO_DIR_NOT_EMPTY",
        `${dir} is not empty and holds no earlier demo run (${DEMO_MARKER} is missing)`,
        {
          details: { dir, entries: entries.slice(0, 10) },
        },
      );
    }
    // The marker names the demo that made the directory: one still running keeps it.
    const owner = Number(/^pid (\d+)$/m.exec(await readFile(join(dir, DEMO_MARKER), "utf8").catch(() => ""))?.[1]);
    if (Number.isInteger(owner) && owner !== self.pid && self.alive(owner)) {
      throw cliError("CLI_DEMO_DIR_NOT_EMPTY", `${dir} belongs to a demo that is still running (pid ${owner})`, {
        hint: "Stop that demo first (Ctrl-C, or kill -TERM the pid: it cleans up), or pass another --dir.",
        details: { dir, pid: owner },
      });
    }
    const mounted = mountPointsUnder(await mountinfo(), dir);
    if (mounted.length > 0) {
      throw cliError("CLI_DEMO_DIR_NOT_EMPTY", `${dir} has file systems mounted in it (${mounted[0]}, …)`, {
        hint: "An earlier demo is still running, or its mounts were left behind: stop it, or unmount them (`umount -R`), then run the demo again.",
        details: { dir, mounted },
      });
    }
    for (const e of entries) await rm(join(dir, e), { recursive: true, force: true });
  }
  await writeFile(
    join(dir, DEMO_MARKER),
    `This directory belongs to \`contrast demo\`; the next run empties it.\npid ${self.pid}\n`,
  );
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, but is another user's.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The mount points at or under `dir`, from /proc/self/mountinfo's fifth field (octal escapes decoded). */
export function mountPointsUnder(mountinfo: string, dir: string): string[] {
  const prefix = dir.endsWith(sep) ? dir : `${dir}${sep}`;
  return mountinfo
    .split("\n")
    .map((line) => line.split(" ")[4])
    .filter((p): p is string => p !== undefined)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(Number.parseInt(o, 8))))
    .filter((p) => p === dir || p.startsWith(prefix));
}

/**
 * Copies the sample app's resources into the demo's directory with their image placeholders
 * (`{{image:<name>}}`) filled in with the pinned references of the images just built.
 * Returns the files written. An unknown placeholder is a bug of the resources.
 */
export async function writeResources(from: string, to: string, images: ReadonlyMap<string, string>): Promise<string[]> {
  await mkdir(to, { recursive: true });
  const written: string[] = [];
  for (const name of (await readdir(from)).sort()) {
    if (!/\.ya?ml$/.test(name)) continue;
    const text = await readFile(join(from, name), "utf8");
    const filled = text.replace(/\{\{\s*image:([a-z0-9-]+)\s*\}\}/g, (_m, image: string) => {
      const ref = images.get(image);
      if (ref === undefined) {
        throw cliError(
          "CLI_DEMO_CHECK_FAILED",
          `${join(from, name)} names {{image:${image}}}, which the demo does not build`,
          {
            details: { file: join(from, name), image, built: [...images.keys()] },
          },
        );
      }
      return ref;
    });
    await writeFile(join(to, name), filled);
    written.push(join(to, name));
  }
  if (written.length === 0 || !existsSync(to)) {
    throw cliError("CLI_DEMO_SOURCE_NOT_FOUND", `${from} holds no .yml files`, { details: { from } });
  }
  return written;
}
