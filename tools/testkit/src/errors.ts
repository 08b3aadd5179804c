import { expect } from "vitest";

/** What `fn` throws, or undefined if it returns. */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
    return undefined;
  } catch (e) {
    return e;
  }
}

/** The `code` of what `fn` throws, or undefined if it returns. */
export function errorCode(fn: () => unknown): string | undefined {
  return (thrownBy(fn) as { code?: string } | undefined)?.code;
}

/** Asserts that `fn` throws an error with `code` (and `kind`, when given). Never matches on text. */
export function expectCode(fn: () => unknown, code: string, kind?: string): void {
  const thrown = thrownBy(fn);
  expect(thrown, `expected ${code}`).toBeDefined();
  expect((thrown as { code?: string }).code).toBe(code);
  if (kind !== undefined) expect((thrown as { kind?: string }).kind).toBe(kind);
}

/** The async form of expectCode. */
export async function expectCodeAsync(fn: () => Promise<unknown>, code: string, kind?: string): Promise<void> {
  let thrown: unknown;
  try {
    await fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected ${code}`).toBeDefined();
  expect((thrown as { code?: string }).code).toBe(code);
  if (kind !== undefined) expect((thrown as { kind?: string }).kind).toBe(kind);
}
