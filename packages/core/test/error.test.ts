import { execFileSync } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it, vi } from "vitest";
import { ContrastError, isContrastError } from "../src/error.js";

describe("ContrastError", () => {
  it("carries code, kind, hint, details and cause", () => {
    const cause = new Error("root");
    const err = new ContrastError("MANIFEST_INVALID", "bad manifest", {
      hint: "fix it",
      kind: "input",
      cause,
      details: { path: "Policies" },
    });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe("ContrastError");
    expect(err.code).toBe("MANIFEST_INVALID");
    expect(err.hint).toBe("fix it");
    expect(err.cause).toBe(cause);
    expect(err.toJSON()).toEqual({
      code: "MANIFEST_INVALID",
      kind: "input",
      message: "bad manifest",
      hint: "fix it",
      details: { path: "Policies" },
      cause: { message: "root" },
    });
  });

  it("names subclasses after themselves", () => {
    class EvidenceError extends ContrastError {}
    expect(new EvidenceError("SIGNATURE_INVALID", "x", { kind: "crypto" }).name).toBe("EvidenceError");
  });

  it("rejects codes that are not SCREAMING_SNAKE_CASE", () => {
    expect(() => new ContrastError("bad code", "x")).toThrow(TypeError);
    expect(() => new ContrastError("A__B", "x")).toThrow(TypeError);
  });

  it("from() passes ContrastErrors through unchanged", () => {
    const err = new ContrastError("X", "y");
    expect(ContrastError.from(err)).toBe(err);
  });

  it("from() maps Node system errors to stable codes with hints", async () => {
    const { readFile } = await import("node:fs/promises");
    const caught = await readFile("/nonexistent/definitely/not/here").catch((e: unknown) => e);
    const err = ContrastError.from(caught);
    expect(err.code).toBe("FILE_NOT_FOUND");
    expect(err.kind).toBe("io");
    expect(err.message).toContain("/nonexistent/definitely/not/here");
    expect(err.hint).toBeTruthy();
  });

  it("from() reports unknown errors and thrown non-errors as internal bugs", () => {
    const a = ContrastError.from(new RangeError("boom"));
    expect(a.code).toBe("INTERNAL");
    expect(a.kind).toBe("internal");
    expect(a.message).toBe("boom");
    const b = ContrastError.from("a string");
    expect(b.code).toBe("INTERNAL");
    expect(b.message).toContain('"a string"');
    const c = ContrastError.from(Object.assign(new Error("x"), { name: "AbortError" }));
    expect(c.code).toBe("ABORTED");
  });

  it("isContrastError narrows by code", () => {
    const err = new ContrastError("A_B", "x");
    expect(isContrastError(err)).toBe(true);
    expect(isContrastError(err, "A_B")).toBe(true);
    expect(isContrastError(err, "C")).toBe(false);
    expect(isContrastError(new Error("x"))).toBe(false);
  });
});

describe("ContrastError brand (two copies of @contrast/core)", () => {
  // A fresh module registry evaluates error.ts again: a second ContrastError class, as when a
  // bundled CLI and a library from node_modules each carry their own copy of the package.
  async function secondCopy(): Promise<typeof import("../src/error.js")> {
    vi.resetModules();
    return await import("../src/error.js");
  }

  it("recognises an error of another copy, both ways", async () => {
    const other = await secondCopy();
    expect(other.ContrastError).not.toBe(ContrastError);
    const foreign = new other.ContrastError("SIGNATURE_INVALID", "x", { kind: "crypto" });
    expect(Object.getPrototypeOf(foreign)).not.toBe(ContrastError.prototype);
    expect(foreign instanceof ContrastError).toBe(true);
    expect(isContrastError(foreign, "SIGNATURE_INVALID")).toBe(true);
    expect(new ContrastError("A_B", "y") instanceof other.ContrastError).toBe(true);
    // from() passes a foreign ContrastError through instead of wrapping it as INTERNAL.
    expect(ContrastError.from(foreign)).toBe(foreign);
  });

  it("recognises subclasses of another copy as ContrastError, but keeps subclass checks strict", async () => {
    const other = await secondCopy();
    class ForeignPolicyError extends other.ContrastError {}
    class PolicyError extends ContrastError {}
    const foreign = new ForeignPolicyError("POLICY_DENIED", "x");
    expect(foreign instanceof ContrastError).toBe(true);
    expect(foreign instanceof PolicyError).toBe(false);
    expect(new ContrastError("POLICY_DENIED", "x") instanceof PolicyError).toBe(false);
    expect(new PolicyError("POLICY_DENIED", "x") instanceof PolicyError).toBe(true);
    expect(new PolicyError("POLICY_DENIED", "x") instanceof ContrastError).toBe(true);
  });

  it("does not take look-alikes for ContrastErrors", () => {
    const lookAlike = Object.assign(new Error("x"), { name: "ContrastError", code: "A_B", kind: "input" });
    expect(lookAlike instanceof ContrastError).toBe(false);
    expect(ContrastError.from(lookAlike).code).toBe("INTERNAL");
    expect((null as unknown as object) instanceof ContrastError).toBe(false);
    expect((42 as unknown as object) instanceof ContrastError).toBe(false);
    // The brand is the registered symbol, so anything carrying it is recognised (what a third copy
    // of a future version would do).
    const branded = Object.create(Error.prototype, {
      [Symbol.for("@contrast/core.ContrastError")]: { value: true },
    }) as unknown;
    expect(branded instanceof ContrastError).toBe(true);
  });

  it("recognises errors across two loads of the built package in plain Node (dist)", () => {
    // Node's ESM loader keeps modules apart by URL, so two query strings load error.js twice.
    const dist = pathToFileURL(fileURLToPath(new URL("../dist/error.js", import.meta.url))).href;
    const script = `
      const a = await import(${JSON.stringify(`${dist}?copy=a`)});
      const b = await import(${JSON.stringify(`${dist}?copy=b`)});
      class Sub extends a.ContrastError {}
      const e = new a.ContrastError("A_B", "x");
      console.log(JSON.stringify([a.ContrastError === b.ContrastError, e instanceof b.ContrastError,
        new Sub("A_B", "x") instanceof b.ContrastError, e instanceof Sub, b.ContrastError.from(e) === e]));`;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    expect(JSON.parse(out)).toEqual([false, true, true, false, true]);
  });

  it("keeps the brand out of own keys and JSON", () => {
    const err = new ContrastError("A_B", "x", { hint: "h" });
    expect(Object.getOwnPropertySymbols(err)).toEqual([]);
    expect(JSON.stringify(err)).toBe('{"code":"A_B","kind":"input","message":"x","hint":"h"}');
  });
});
