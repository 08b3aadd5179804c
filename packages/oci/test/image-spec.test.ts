import { readFileSync } from "node:fs";
import { expectCode, FUZZ_RUNS, repoPath } from "@contrast/testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseImageSpec } from "../src/index.js";

const valid = {
  name: "coordinator",
  files: {
    "dist/contrast-coordinator.cjs": "/opt/contrast/contrast-coordinator.cjs",
    "dist/*.LEGAL.txt": "/opt/contrast",
  },
  entrypoint: ["/usr/local/bin/node", "/opt/contrast/contrast-coordinator.cjs"],
  cmd: [],
  env: { NODE_ENV: "production" },
  ports: ["1313/tcp", "7777/tcp", "9102/tcp"],
  workdir: "/",
};

describe("parseImageSpec", () => {
  it("reads the contract's example and the apps' own sections", () => {
    expect(parseImageSpec(valid, "x")).toEqual({ ...valid, hostFiles: [] });
    expect(parseImageSpec({ ...valid, hostFiles: ["/usr/bin/nsenter"] }, "x").hostFiles).toEqual(["/usr/bin/nsenter"]);
    for (const app of ["coordinator", "initializer", "service-mesh"]) {
      const pkg = JSON.parse(readFileSync(repoPath("apps", app, "package.json"), "utf8"));
      const spec = parseImageSpec(pkg.image, `apps/${app}/package.json`);
      expect(spec.name).toBe(app);
      expect(spec.entrypoint[0]).toBe("/usr/local/bin/node");
    }
  });

  it("defaults cmd, env, ports, workdir and hostFiles", () => {
    const spec = parseImageSpec({ name: "a", files: { f: "/f" }, entrypoint: ["/f"] }, "x");
    expect(spec).toEqual({
      name: "a",
      files: { f: "/f" },
      entrypoint: ["/f"],
      cmd: [],
      env: {},
      ports: [],
      workdir: "/",
      hostFiles: [],
    });
  });

  it.each([
    ["not an object", []],
    ["unknown field", { ...valid, entryPoint: ["/x"] }],
    ["uppercase name", { ...valid, name: "Coordinator" }],
    ["name with slash", { ...valid, name: "a/b" }],
    ["no files", { ...valid, files: {} }],
    ["absolute source", { ...valid, files: { "/etc/passwd": "/x" } }],
    ["escaping source", { ...valid, files: { "../secret": "/x" } }],
    ["relative target", { ...valid, files: { a: "opt/a" } }],
    ["root target", { ...valid, files: { a: "/" } }],
    ["dotdot target", { ...valid, files: { a: "/opt/../etc/passwd" } }],
    ["two sources, one target", { ...valid, files: { a: "/x", b: "/x" } }],
    ["empty entrypoint", { ...valid, entrypoint: [] }],
    ["entrypoint not strings", { ...valid, entrypoint: ["/x", 1] }],
    ["bad env name", { ...valid, env: { "A-B": "1" } }],
    ["env not a string", { ...valid, env: { A: 1 } }],
    ["port without protocol", { ...valid, ports: ["1313"] }],
    ["port zero", { ...valid, ports: ["0/tcp"] }],
    ["port too large", { ...valid, ports: ["70000/tcp"] }],
    ["duplicate port", { ...valid, ports: ["1/tcp", "1/tcp"] }],
    ["relative workdir", { ...valid, workdir: "opt" }],
    ["bad user", { ...valid, user: "root user" }],
    ["relative host file", { ...valid, hostFiles: ["usr/bin/nsenter"] }],
    ["host file twice", { ...valid, hostFiles: ["/a", "/a"] }],
    ["host file also a target", { ...valid, hostFiles: ["/opt/contrast/contrast-coordinator.cjs"] }],
    ["host files not an array", { ...valid, hostFiles: "/a" }],
  ])("refuses %s with IMAGE_SPEC_INVALID", (_why, value) => {
    expectCode(() => parseImageSpec(value, "apps/x/package.json"), "IMAGE_SPEC_INVALID", "input");
  });

  it("either returns a spec or throws IMAGE_SPEC_INVALID, for any JSON (fuzz)", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          fc.record({
            name: fc.string(),
            files: fc.dictionary(fc.string(), fc.string()),
            entrypoint: fc.array(fc.string()),
          }),
        ),
        (v) => {
          try {
            const spec = parseImageSpec(v, "fuzz");
            // Whatever it accepts it accepts again unchanged.
            expect(parseImageSpec(spec, "again")).toEqual(spec);
          } catch (e) {
            expect((e as { code?: string }).code).toBe("IMAGE_SPEC_INVALID");
          }
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
  });

  it("accepts generated valid specs unchanged (property)", () => {
    const seg = fc.stringMatching(/^[a-z0-9][a-z0-9_.-]{0,8}$/).filter((s) => !s.includes(".."));
    const abs = fc.array(seg, { minLength: 1, maxLength: 3 }).map((p) => `/${p.join("/")}`);
    const spec = fc.record({
      name: fc.stringMatching(/^[a-z0-9]+(-[a-z0-9]+)*$/).filter((s) => s.length <= 40),
      files: fc.uniqueArray(
        fc.tuple(
          fc.array(seg, { minLength: 1, maxLength: 3 }).map((p) => p.join("/")),
          abs,
        ),
        {
          minLength: 1,
          maxLength: 4,
          selector: ([, t]) => t,
        },
      ),
      entrypoint: fc.array(fc.string(), { minLength: 1, maxLength: 3 }).map((a) => a.map((s) => s.replace(/\0/g, ""))),
      ports: fc.uniqueArray(
        fc
          .tuple(fc.integer({ min: 1, max: 65535 }), fc.constantFrom("tcp", "udp", "sctp"))
          .map(([n, p]) => `${n}/${p}`),
        { maxLength: 3 },
      ),
    });
    fc.assert(
      fc.property(spec, (s) => {
        const files = Object.fromEntries(s.files);
        fc.pre(Object.keys(files).length === s.files.length);
        const parsed = parseImageSpec({ ...s, files }, "gen");
        expect(parsed.files).toEqual(files);
        expect(parsed.ports).toEqual(s.ports);
        expect(parsed.entrypoint).toEqual(s.entrypoint);
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});
