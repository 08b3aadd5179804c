import { fromHex, toBase64, toHex } from "@contrast/core";
import type { ClientHelloInfo } from "./client-hello.js";
import { AtlsError } from "./errors.js";

/** Nonces are 32 random bytes in both directions (upstream's RNGLengthDefault). */
export const NONCE_BYTES = 32;

/** The ALPN entry prefix newer upstream clients send the nonce in; v1 is the only version. */
export const ALPN_NONCE_PREFIX = "atls:v1:nonce:";

/** The client nonce as upstream v1.5 sends it in SNI: standard base64 with padding. */
export function nonceToServerName(nonce: Uint8Array): string {
  return toBase64(nonce);
}

/** The client nonce as newer upstream clients send it: an ALPN entry, before "h2". */
export function nonceToAlpn(nonce: Uint8Array): string {
  return `${ALPN_NONCE_PREFIX}${toHex(nonce)}`;
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * The client's nonce from its ClientHello, as newer upstream servers read it: an ALPN entry that
 * starts with "atls" wins and must be a valid atls:v1:nonce:<hex> (no fallback to SNI, so a
 * client cannot be downgraded by a second entry); without one, SNI holds standard base64.
 */
export function nonceFromClientHello(hello: ClientHelloInfo): Uint8Array {
  const entries = hello.alpn.filter((p) => p.startsWith("atls"));
  if (entries.length > 0) {
    if (entries.length > 1)
      throw new AtlsError("ATLS_NONCE_INVALID", "the ClientHello has more than one atls ALPN entry");
    const entry = entries[0] as string;
    if (!entry.startsWith(ALPN_NONCE_PREFIX)) {
      throw new AtlsError(
        "ATLS_VERSION_UNSUPPORTED",
        `unsupported aTLS ALPN entry ${JSON.stringify(entry.slice(0, 40))}`,
      );
    }
    const hex = entry.slice(ALPN_NONCE_PREFIX.length);
    if (!/^[0-9a-fA-F]*$/.test(hex) || hex.length !== NONCE_BYTES * 2) {
      throw new AtlsError("ATLS_NONCE_INVALID", "the ALPN nonce is not 32 bytes of hex");
    }
    return fromHex(hex.toLowerCase(), NONCE_BYTES);
  }
  const sni = hello.serverName;
  if (sni === undefined || sni === "") {
    throw new AtlsError("ATLS_NONCE_MISSING", "no nonce in the ALPN protocols or SNI");
  }
  if (sni.length !== 44 || !B64.test(sni)) {
    throw new AtlsError("ATLS_NONCE_INVALID", "the SNI nonce is not 32 bytes of standard base64");
  }
  const nonce = new Uint8Array(Buffer.from(sni, "base64"));
  // Node's decoder is lenient; re-encoding catches non-canonical forms.
  if (nonce.length !== NONCE_BYTES || toBase64(nonce) !== sni) {
    throw new AtlsError("ATLS_NONCE_INVALID", "the SNI nonce is not 32 bytes of standard base64");
  }
  return nonce;
}
