import { isIPv4, isIPv6 } from "node:net";
import { MeshPkiError } from "./errors.js";

export interface ClassifiedSans {
  readonly dns: string[];
  readonly ip: Uint8Array[];
  readonly uri: string[];
}

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
// IA5String is 7-bit ASCII, and Go's x509 refuses anything else in DNS and URI names; control
// characters have no place in a name either.
const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

function ipv4Bytes(text: string): Uint8Array {
  return new Uint8Array(text.split(".").map(Number));
}

function ipv6Bytes(text: string): Uint8Array {
  let hex = text;
  const lastColon = text.lastIndexOf(":");
  if (text.includes(".")) {
    // A trailing dotted quad stands for the last two 16-bit groups.
    const [a = 0, b = 0, c = 0, d = 0] = ipv4Bytes(text.slice(lastColon + 1));
    hex = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [left = "", right] = hex.split("::");
  const l = left === "" ? [] : left.split(":");
  const r = right === undefined || right === "" ? [] : right.split(":");
  const groups = right === undefined ? l : [...l, ...Array<string>(8 - l.length - r.length).fill("0"), ...r];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const n = Number.parseInt(g, 16);
    out[i * 2] = n >> 8;
    out[i * 2 + 1] = n & 0xff;
  });
  return out;
}

/** IPv4-mapped IPv6 addresses are written in their 4-byte form, as Go does. */
function ipBytes(text: string): Uint8Array | undefined {
  if (isIPv4(text)) return ipv4Bytes(text);
  if (!isIPv6(text) || text.includes("%")) return undefined;
  const b = ipv6Bytes(text);
  const mapped = b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  return mapped ? b.slice(12) : b;
}

function isUri(text: string): boolean {
  if (!SCHEME.test(text)) return false;
  try {
    new URL(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Sorts a policy entry's SANs the way the Coordinator does at issuance: an IP address becomes an
 * IP SAN, a URL with a scheme a URI SAN, anything else a DNS SAN. Order within each kind is kept,
 * because the first DNS name is also the certificate's common name.
 */
export function classifySans(sans: readonly string[]): ClassifiedSans {
  const out: { dns: string[]; ip: Uint8Array[]; uri: string[] } = { dns: [], ip: [], uri: [] };
  for (const san of sans) {
    if (!PRINTABLE_ASCII.test(san)) {
      throw new MeshPkiError("CERT_SAN_INVALID", `SAN ${JSON.stringify(san)} is empty or not printable ASCII`, {
        hint: "SANs are DNS names, IP addresses or URIs in ASCII; fix the manifest's policy entry.",
        details: { san },
      });
    }
    const ip = ipBytes(san);
    if (ip) out.ip.push(ip);
    else if (isUri(san)) out.uri.push(san);
    else out.dns.push(san);
  }
  return out;
}
