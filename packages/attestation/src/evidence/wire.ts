import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { EvidenceError } from "../errors.js";

/**
 * Protocol-buffer plumbing for the evidence documents. The schemas are small and fixed (those of
 * go-sev-guest and go-tdx-guest), so fields are mapped by hand over @bufbuild/protobuf's wire
 * reader and writer instead of generating code.
 */

export function documentError(what: string, message: string, cause?: unknown): EvidenceError {
  return new EvidenceError("EVIDENCE_DOCUMENT_MALFORMED", `${what}: ${message}`, {
    kind: "input",
    hint: "The evidence document is damaged, truncated, or not in the format its OID names.",
    ...(cause === undefined ? {} : { cause }),
  });
}

/** One field as read: its number and a typed accessor that checks the wire type. */
export interface Field {
  readonly no: number;
  varint32(): number;
  varint64(): bigint;
  bytes(): Uint8Array;
}

const MAX_DEPTH = 8; // the deepest schema (TDX) nests five messages

/**
 * Reads every field of a message and hands it to `visit`. Unknown fields are skipped, as
 * protobuf requires for forward compatibility; known fields with the wrong wire type, and any
 * framing error, become EVIDENCE_DOCUMENT_MALFORMED.
 */
export function readMessage(bytes: Uint8Array, what: string, visit: (f: Field) => boolean, depth = 0): void {
  if (depth > MAX_DEPTH) throw documentError(what, "messages nested too deeply");
  const r = new BinaryReader(bytes);
  // One accessor object for all fields of the message (a report has ~30), re-aimed at each field
  // in turn: visitors use it only during their own call.
  let no = 0;
  let type = WireType.Varint;
  let used = false;
  const expect = (t: WireType, name: string) => {
    if (type !== t) throw documentError(what, `field ${no} is not ${name}`);
    used = true;
  };
  const field = {
    no: 0,
    varint32: () => {
      expect(WireType.Varint, "a varint");
      return r.uint32();
    },
    varint64: () => {
      expect(WireType.Varint, "a varint");
      return BigInt(r.uint64());
    },
    bytes: () => {
      expect(WireType.LengthDelimited, "length-delimited");
      return r.bytes();
    },
  };
  try {
    while (r.pos < r.len) {
      [no, type] = r.tag();
      used = false;
      field.no = no;
      if (!visit(field) || !used) r.skip(type, no);
    }
  } catch (e) {
    if (e instanceof EvidenceError) throw e;
    throw documentError(what, e instanceof Error ? e.message : String(e), e);
  }
}

/** Writes fields in number order and leaves zero values out, as Go's proto.Marshal does. */
export class MessageWriter {
  private readonly w = new BinaryWriter();

  u32(no: number, v: number): this {
    if (v !== 0) this.w.tag(no, WireType.Varint).uint32(v);
    return this;
  }

  u64(no: number, v: bigint): this {
    if (v !== 0n) this.w.tag(no, WireType.Varint).uint64(v);
    return this;
  }

  bytes(no: number, v: Uint8Array | undefined): this {
    if (v !== undefined && v.length > 0) this.w.tag(no, WireType.LengthDelimited).bytes(v);
    return this;
  }

  /** A submessage; written even when empty, since presence matters for messages. */
  message(no: number, v: Uint8Array | undefined): this {
    if (v !== undefined) this.w.tag(no, WireType.LengthDelimited).bytes(v);
    return this;
  }

  string(no: number, v: string): this {
    if (v.length > 0) this.w.tag(no, WireType.LengthDelimited).string(v);
    return this;
  }

  finish(): Uint8Array {
    return this.w.finish();
  }
}

/**
 * Checks a fixed-size bytes field. Writers always fill these (go-sev-guest and go-tdx-guest copy
 * whole arrays), so a missing one means a damaged or foreign document, not zeros.
 */
export function sized(what: string, name: string, v: Uint8Array | undefined, size: number): Uint8Array {
  if (v === undefined) throw documentError(what, `${name} is missing`);
  if (v.length !== size) throw documentError(what, `${name} is ${v.length} bytes, expected ${size}`);
  return v;
}
