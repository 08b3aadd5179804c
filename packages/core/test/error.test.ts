import { describe, expect, it } from "vitest";
import { ContrastError, isContrastError } from "../src/index.js";

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
