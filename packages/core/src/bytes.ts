import { timingSafeEqual } from "node:crypto";
import { ContrastError } from "./error.js";

const HEX_PAIR = /^(?:[0-9a-fA-F]{2})*$/;
const BASE64_STD = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const BASE64_URL = /^[A-Za-z0-9_-]*$/;

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/**
 * Decodes hex strictly: an odd length or a non-hex character is an error (Buffer.from would
 * silently stop at the first bad character). Upper case is accepted, as Go's decoder does.
 */
export function fromHex(text: string, expectedBytes?: number): Uint8Array {
  if (!HEX_PAIR.test(text)) {
    const bad = text.search(/[^0-9a-fA-F]/);
    throw new ContrastError(
      "ENCODING_INVALID_HEX",
      bad >= 0
        ? `invalid hex: character ${JSON.stringify(text[bad])} at offset ${bad}`
        : `invalid hex: odd length ${text.length}`,
      { hint: "Hex strings hold two characters 0-9 or a-f per byte, with no 0x prefix." },
    );
  }
  if (expectedBytes !== undefined && text.length !== expectedBytes * 2) {
    throw new ContrastError(
      "ENCODING_WRONG_LENGTH",
      `expected ${expectedBytes} bytes (${expectedBytes * 2} hex characters), got ${text.length / 2} bytes`,
      { hint: "Check that the value was copied completely.", details: { expectedBytes } },
    );
  }
  return new Uint8Array(Buffer.from(text, "hex"));
}

export function isHex(text: string, expectedBytes?: number): boolean {
  return HEX_PAIR.test(text) && (expectedBytes === undefined || text.length === expectedBytes * 2);
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/** Standard base64 with padding (RFC 4648 §4), strict: no whitespace, no missing padding. */
export function fromBase64(text: string): Uint8Array {
  if (!BASE64_STD.test(text)) {
    throw new ContrastError("ENCODING_INVALID_BASE64", "invalid base64", {
      hint: "Expected standard base64 (A-Z a-z 0-9 + /) with = padding and no line breaks.",
    });
  }
  const out = Buffer.from(text, "base64");
  // The regex admits non-canonical trailing bits (e.g. "QR=="); reject them so one byte string
  // has exactly one encoding.
  if (out.toString("base64") !== text) {
    throw new ContrastError("ENCODING_INVALID_BASE64", "non-canonical base64 padding bits", {
      hint: "The unused bits of the last character must be zero.",
    });
  }
  return new Uint8Array(out);
}

export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
}

/** URL-safe base64 without padding (RFC 4648 §5). */
export function fromBase64Url(text: string): Uint8Array {
  if (!BASE64_URL.test(text) || text.length % 4 === 1) {
    throw new ContrastError("ENCODING_INVALID_BASE64", "invalid base64url", {
      hint: "Expected URL-safe base64 (A-Z a-z 0-9 - _) without padding.",
    });
  }
  const out = Buffer.from(text, "base64url");
  if (out.toString("base64url") !== text) {
    throw new ContrastError("ENCODING_INVALID_BASE64", "non-canonical base64url padding bits", {
      hint: "The unused bits of the last character must be zero.",
    });
  }
  return new Uint8Array(out);
}

const utf8Decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

export function utf8(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/** Decodes UTF-8 strictly; malformed sequences are an error rather than U+FFFD. */
export function fromUtf8(bytes: Uint8Array): string {
  try {
    return utf8Decoder.decode(bytes);
  } catch (cause) {
    throw new ContrastError("ENCODING_INVALID_UTF8", "input is not valid UTF-8", {
      cause,
      hint: "Save the file as UTF-8 text.",
    });
  }
}

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.byteLength;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}

/** Constant-time for equal lengths, so secrets and MACs can be compared with it. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}
