import { defineProject, type UserWorkspaceConfig } from "vitest/config";

/**
 * Settings every package's tests share. Workspace packages resolve to their TypeScript sources
 * (the "@contrast/source" export condition), so tests never run against a stale build.
 */
export function project(name: string, extra: UserWorkspaceConfig["test"] = {}): UserWorkspaceConfig {
  return defineProject({
    resolve: { conditions: ["@contrast/source", "import", "node", "default"] },
    ssr: { resolve: { conditions: ["@contrast/source", "import", "node", "default"] } },
    test: {
      name,
      include: ["test/**/*.test.ts"],
      environment: "node",
      // `pnpm fuzz` raises FUZZ_RUNS by orders of magnitude; its runs may take minutes.
      testTimeout: process.env.FUZZ_RUNS === undefined ? 20_000 : 30 * 60_000,
      ...extra,
    },
  });
}
