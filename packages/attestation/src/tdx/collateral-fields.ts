// Readers of the fields of Intel's JSON collateral (TCB info, QE identity): each refuses what
// is not of the expected shape with TDX_COLLATERAL_INVALID instead of guessing.

import { fromHex, isHex, type JsonObject, type JsonValue } from "@contrast/core";
import { EvidenceError } from "../errors.js";
import { TCB_STATUSES, type TcbStatus } from "./tcb-status.js";

export function collateralError(
  message: string,
  hint = "Fetch current collateral from Intel's PCS.",
  cause?: unknown,
): EvidenceError {
  return new EvidenceError("TDX_COLLATERAL_INVALID", message, { kind: "input", hint, cause });
}

/**
 * Intel's PCS writes UTC times as YYYY-MM-DDThh:mm:ssZ. Anything else is refused rather than
 * guessed at: `Date` would accept other forms and roll 2024-02-30 over into March.
 */
export function intelDate(v: JsonValue | undefined, what: string): Date {
  const m = typeof v === "string" ? /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/.exec(v) : null;
  if (m) {
    const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
    const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
    // Date.UTC rolls over (February 30th becomes March 1st); the round trip catches that.
    if (date.toISOString() === `${m[0].slice(0, 19)}.000Z`) return date;
  }
  throw collateralError(`${what} ${JSON.stringify(v)} is not a UTC time of the form YYYY-MM-DDThh:mm:ssZ`);
}

export const num = (v: JsonValue | undefined, what: string): number => {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0)
    throw collateralError(`${what} must be a non-negative integer`);
  return v;
};
export const arr = (v: JsonValue | undefined, what: string): JsonValue[] => {
  if (!Array.isArray(v)) throw collateralError(`${what} must be an array`);
  return v;
};
export const obj = (v: JsonValue | undefined, what: string): JsonObject => {
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw collateralError(`${what} must be an object`);
  return v;
};
export const status = (v: JsonValue | undefined): TcbStatus => {
  if (typeof v !== "string" || !(TCB_STATUSES as readonly string[]).includes(v))
    throw collateralError(`unknown TCB status ${JSON.stringify(v)}`);
  return v as TcbStatus;
};
export const hexField = (v: JsonValue | undefined, bytes: number, what: string): Uint8Array => {
  if (typeof v !== "string" || !isHex(v, bytes)) throw collateralError(`${what} must be ${bytes} bytes of hex`);
  return fromHex(v);
};
