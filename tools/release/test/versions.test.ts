import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { repoPath } from "@contrast/testkit";
import { describe, expect, it } from "vitest";

const readJson = (path: string) => JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;

/** Every app that ships: a bundle users run or an image a release pins. */
const apps = readdirSync(repoPath("apps"), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => readJson(join(repoPath("apps"), d.name, "package.json")) as { name: string; version: string });

describe("versions come from changesets, one for all apps", () => {
  it("the changeset config fixes every app into one group", () => {
    const config = readJson(repoPath(".changeset/config.json")) as { fixed: string[][]; ignore: string[] };
    const glob = (pattern: string) =>
      new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`);
    const groups = config.fixed.map((g) => g.map(glob));
    const groupOf = (name: string) => groups.findIndex((g) => g.some((re) => re.test(name)));
    expect(apps.length).toBeGreaterThanOrEqual(5);
    const indices = new Set(apps.map((a) => groupOf(a.name)));
    expect(indices.size).toBe(1);
    expect(indices.has(-1)).toBe(false);
    for (const a of apps) expect(config.ignore).not.toContain(a.name);
  });

  it("the apps share one version, the one images and release.json carry (the CLI's)", () => {
    const cli = apps.find((a) => a.name === "@contrast/cli");
    expect(cli).toBeDefined();
    for (const a of apps) expect({ app: a.name, version: a.version }).toEqual({ app: a.name, version: cli?.version });
  });
});
