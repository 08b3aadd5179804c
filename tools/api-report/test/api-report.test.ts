import { execFileSync } from "node:child_process";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { scratchDir } from "@contrast/testkit";
import { describe, expect, it } from "vitest";
import { createProgram, entryPoints, listPackages, renderReport, runApiReport } from "../src/report.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, "../src/cli.mjs");

function fixtureCopy(): string {
  const root = scratchDir("contrast-api-report-");
  cpSync(join(here, "fixture"), root, { recursive: true });
  return root;
}

function report(root: string, oldProgram?: unknown): { text: string; program: unknown } {
  const [pkg] = listPackages(root);
  if (!pkg) throw new Error("no package");
  const program = createProgram(
    entryPoints(pkg.dir).entries.map((e: { file: string }) => e.file),
    oldProgram,
  );
  return { text: renderReport(program, root, pkg.dir), program };
}

function run(root: string, ...args: string[]): { status: number; out: string } {
  try {
    return { status: 0, out: execFileSync("node", [CLI, root, ...args], { encoding: "utf8", stdio: "pipe" }) };
  } catch (e) {
    const err = e as { status: number; stderr: string };
    return { status: err.status, out: err.stderr };
  }
}

// Each report type-checks against the standard library and @types/node: seconds, not milliseconds.
describe("api-report", { timeout: 120_000 }, () => {
  it("lists packages with a door only", () => {
    expect(listPackages(join(here, "fixture")).map((p: { name: string }) => p.name)).toEqual(["demo"]);
  });

  it("writes every exported name of every entry point with its kind and signature", () => {
    const root = fixtureCopy();
    const { text, program } = report(root);
    expect(text).toContain("## @fixture/demo\n\n7 exported names.");
    expect(text).toContain("## @fixture/demo/testing\n\n1 exported names.");
    const lines = text.split("\n");
    for (const line of [
      "class Circle implements Shape {",
      "  constructor(radius: number);",
      "  static unit: Unit;",
      "  static of<T extends number>(r: T): Circle;",
      "  readonly name: 'circle';",
      "  readonly radius: number;",
      "  area(): number;",
      "enum Colour { Red, Green }",
      "interface Named {",
      "  readonly [key: string]: number;",
      "const SIDES: { readonly triangle: 3; readonly square: 4; };",
      "interface Shape {",
      "  readonly name: string;",
      "  tags?: string[];",
      "type Unit = 'cm' | 'in' | 'mm';", // declared "in" | "cm" | "mm": literal unions are written sorted
      "function scale<T extends Shape>(shape: T, factor: number): T;",
      "function scale(shape: Shape, factor: number, unit: Unit): Shape;",
      "function unitCircle(): Circle;",
    ]) {
      expect(lines, line).toContain(line);
    }
    // Private members and names the door does not export stay out.
    expect(text).not.toMatch(/secret|hidden|internalOnly/);
    // No machine-specific paths.
    expect(text).not.toContain(here);
    expect(text).not.toContain("import(");
    // Stable: the same source gives the same bytes.
    expect(report(root, program).text).toBe(text);
  });

  it("--check fails, naming the report, when a surface changes, and passes once it is rewritten", () => {
    const root = fixtureCopy();
    const first = runApiReport(root, { check: true });
    expect(first.changed).toEqual(["packages/demo/api.md"]); // none written yet
    expect(runApiReport(root, { oldProgram: first.program }).changed).toEqual(["packages/demo/api.md"]);
    const current = runApiReport(root, { check: true, oldProgram: first.program });
    expect(current.changed).toEqual([]);
    const shapes = join(root, "packages/demo/src/shapes.ts");
    writeFileSync(
      shapes,
      readFileSync(shapes, "utf8").replace("factor: number, unit: Unit", "factor: bigint, unit: Unit"),
    );
    const stale = runApiReport(root, { check: true, oldProgram: current.program });
    expect(stale.changed).toEqual(["packages/demo/api.md"]);
    runApiReport(root, { oldProgram: stale.program });
    expect(readFileSync(join(root, "packages/demo/api.md"), "utf8")).toContain(
      "function scale(shape: Shape, factor: bigint, unit: Unit): Shape;",
    );
  });

  it("the CLI exits 1 on a stale report and names it", () => {
    const root = fixtureCopy();
    const result = run(root, "--check");
    expect(result.status).toBe(1);
    expect(result.out).toContain("api-report: packages/demo/api.md is out of date");
  });
});
