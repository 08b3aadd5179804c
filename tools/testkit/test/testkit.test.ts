import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  errorCode,
  expectCode,
  fuzzRuns,
  openssl,
  REPO_ROOT,
  repoPath,
  scratchDir,
  testdataPath,
  thrownBy,
} from "../src/index.js";

class Coded extends Error {
  constructor(
    readonly code: string,
    readonly kind = "input",
  ) {
    super(code);
  }
}

describe("testkit", () => {
  it("reads FUZZ_RUNS and rejects nonsense", () => {
    const saved = process.env.FUZZ_RUNS;
    try {
      delete process.env.FUZZ_RUNS;
      expect(fuzzRuns(7)).toBe(7);
      process.env.FUZZ_RUNS = "5000";
      expect(fuzzRuns(7)).toBe(5000);
      process.env.FUZZ_RUNS = "lots";
      expect(() => fuzzRuns()).toThrow(/FUZZ_RUNS/);
    } finally {
      if (saved === undefined) delete process.env.FUZZ_RUNS;
      else process.env.FUZZ_RUNS = saved;
    }
  });

  it("reports codes, and fails when the code or kind differs or nothing is thrown", () => {
    expect(errorCode(() => 1)).toBeUndefined();
    expect(
      errorCode(() => {
        throw new Coded("X_Y");
      }),
    ).toBe("X_Y");
    expectCode(
      () => {
        throw new Coded("X_Y", "crypto");
      },
      "X_Y",
      "crypto",
    );
    expect(thrownBy(() => expectCode(() => 1, "X_Y"))).toBeInstanceOf(Error);
    expect(
      thrownBy(() =>
        expectCode(() => {
          throw new Coded("X_Z");
        }, "X_Y"),
      ),
    ).toBeInstanceOf(Error);
    expect(
      thrownBy(() =>
        expectCode(
          () => {
            throw new Coded("X_Y");
          },
          "X_Y",
          "crypto",
        ),
      ),
    ).toBeInstanceOf(Error);
  });

  it("finds the repository root and testdata/", () => {
    expect(existsSync(repoPath("pnpm-workspace.yaml"))).toBe(true);
    expect(existsSync(testdataPath("SOURCES.md"))).toBe(true);
    expect(testdataPath("a", "b")).toBe(`${REPO_ROOT}/testdata/a/b`);
  });

  const fileScoped = scratchDir();
  let testScoped = "";
  it("makes scratch directories: one made in a test is gone when the test has finished", () => {
    expect(existsSync(fileScoped)).toBe(true);
    testScoped = scratchDir();
    expect(existsSync(testScoped)).toBe(true);
  });
  it("(the previous test's directory is gone, the file's stays)", () => {
    expect(testScoped).not.toBe("");
    expect(existsSync(testScoped)).toBe(false);
    expect(existsSync(fileScoped)).toBe(true);
  });

  it("runs the real openssl", () => {
    expect(openssl(["version"]).toString()).toMatch(/^OpenSSL /);
  });
});

describe("yamlFilesUnder", () => {
  it("lists YAML files and Kata's .yaml.in templates recursively, sorted, and nothing else", async () => {
    const { mkdirSync, writeFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { yamlFilesUnder } = await import("../src/index.js");
    const dir = scratchDir();
    mkdirSync(join(dir, "b/c"), { recursive: true });
    for (const f of ["z.yaml", "a.yml", "b/c/pod.yaml.in", "b/readme.md", "b/x.json"]) writeFileSync(join(dir, f), "");
    expect(yamlFilesUnder(dir).map((p) => p.slice(dir.length + 1))).toEqual(["a.yml", "b/c/pod.yaml.in", "z.yaml"]);
  });
});
