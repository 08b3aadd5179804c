import { existsSync, readFileSync, realpathSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { cliError } from "../coordinator/errors.js";

/** The apps the demo packs into images, by image name: the sample app and Contrast's own. */
export const DEMO_APPS = {
  "demo-app": "apps/demo-app",
  coordinator: "apps/coordinator",
  initializer: "apps/initializer",
  "service-mesh": "apps/service-mesh",
} as const;

export type DemoAppName = keyof typeof DEMO_APPS;

/** Where the sample app's Kubernetes resources are kept in the checkout. */
export const RESOURCES_DIR = "apps/cli/src/demo/resources";

export interface DemoSource {
  /** The checkout: the directory with pnpm-workspace.yaml. */
  readonly root: string;
  readonly apps: readonly { readonly name: DemoAppName; readonly packageDir: string }[];
  readonly resourcesDir: string;
}

/**
 * The contrast checkout the demo runs: `explicit` (--source-dir), or the first directory holding
 * pnpm-workspace.yaml above one of `from` (the CLI bundle's own location first, then the working
 * directory). Every app must be built: the files its package.json's "image" section packs must
 * exist, because they are what the demo's images carry.
 */
export function findDemoSource(explicit: string | undefined, from: readonly string[]): DemoSource {
  const root = explicit === undefined ? findRoot(from) : resolve(explicit);
  if (root === undefined || !existsSync(join(root, "pnpm-workspace.yaml"))) {
    throw cliError(
      "CLI_DEMO_SOURCE_NOT_FOUND",
      explicit === undefined
        ? `no contrast checkout (a directory with pnpm-workspace.yaml) above ${from.join(" or ")}`
        : `${root} is not a contrast checkout: it has no pnpm-workspace.yaml`,
      { details: { searched: explicit === undefined ? from : [root] } },
    );
  }
  const apps = (Object.entries(DEMO_APPS) as [DemoAppName, string][]).map(([name, dir]) => {
    const packageDir = join(root, dir);
    for (const file of builtFiles(packageDir, name)) {
      if (!existsSync(join(packageDir, file))) {
        throw cliError("CLI_DEMO_SOURCE_NOT_FOUND", `${join(dir, file)} is missing in ${root}: the app is not built`, {
          hint: "Run `pnpm build` in the checkout first, or run the demo with `pnpm demo`, which builds before it starts.",
          details: { root, app: name, file: join(dir, file) },
        });
      }
    }
    return { name, packageDir };
  });
  const resourcesDir = join(root, RESOURCES_DIR);
  if (!existsSync(resourcesDir)) {
    throw cliError("CLI_DEMO_SOURCE_NOT_FOUND", `${RESOURCES_DIR} is missing in ${root}`, {
      details: { root, resourcesDir },
    });
  }
  return { root, apps, resourcesDir };
}

function findRoot(from: readonly string[]): string | undefined {
  for (const start of from) {
    let dir: string;
    try {
      dir = realpathSync(start);
    } catch {
      continue;
    }
    for (;;) {
      if (existsSync(join(dir, "pnpm-workspace.yaml"))) return dir;
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  return undefined;
}

/** The files an app's image packs (its package.json "image".files keys), relative to the app. */
function builtFiles(packageDir: string, name: string): string[] {
  const file = join(packageDir, "package.json");
  let pkg: unknown;
  try {
    pkg = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    throw cliError("CLI_DEMO_SOURCE_NOT_FOUND", `${file} is missing or not JSON: the checkout has no app ${name}`, {
      details: { app: name, file },
    });
  }
  const image = (pkg as { image?: { files?: Record<string, string> } }).image;
  return Object.keys(image?.files ?? {});
}
