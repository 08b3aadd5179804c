import { noopLogger } from "@contrast/core";
import { describe, expect, it } from "vitest";
import { type Stoppable, shutdown } from "../src/shutdown.js";

function part(name: string, drainMs: number | "never", log: string[]): Stoppable {
  return {
    name,
    graceful: () =>
      drainMs === "never"
        ? new Promise<void>(() => {})
        : new Promise<void>((resolve) =>
            setTimeout(() => {
              log.push(`${name} drained`);
              resolve();
            }, drainMs),
          ),
    force: () => log.push(`${name} forced`),
  };
}

describe("shutdown", () => {
  it("drains every part in parallel within the budget and forces nothing", async () => {
    const log: string[] = [];
    const ok = await shutdown([part("user", 20, log), part("mesh", 10, log)], { budgetMs: 1000, logger: noopLogger });
    expect(ok).toBe(true);
    expect(log.sort()).toEqual(["mesh drained", "user drained"]);
  });

  it("forces every part once the budget is spent", async () => {
    const log: string[] = [];
    const warnings: string[] = [];
    const logger = { ...noopLogger, warn: (m: string) => warnings.push(m) };
    const ok = await shutdown([part("user", "never", log), part("mesh", 5, log)], { budgetMs: 50, logger });
    expect(ok).toBe(false);
    expect(log).toEqual(["mesh drained", "user forced", "mesh forced"]);
    expect(warnings).toContain("shutdown budget spent; cutting open connections");
  });

  it("a part whose graceful stop fails does not stop the others", async () => {
    const log: string[] = [];
    const broken: Stoppable = { name: "broken", graceful: () => Promise.reject(new Error("x")), force: () => {} };
    expect(await shutdown([broken, part("mesh", 1, log)], { budgetMs: 500, logger: noopLogger })).toBe(true);
    expect(log).toEqual(["mesh drained"]);
  });
});
