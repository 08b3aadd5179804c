import { AtlsError } from "./errors.js";

/**
 * The RFC 5705 exporter label of Contrast-TS's channel binding. Labels starting with
 * "EXPERIMENTAL" need no IANA registration (RFC 5705 section 4); "-v1" lets a later format take a
 * new label instead of being confused with this one.
 */
export const CHANNEL_BINDING_LABEL = "EXPERIMENTAL-Contrast-attestation-v1";

/** Length of the binding: as long as a nonce, and RFC 9266's tls-exporter length. */
export const CHANNEL_BINDING_BYTES = 32;

/** What a TLS connection offers for the binding: node:tls's TLSSocket and AtlsPeer fit. */
export interface ExporterSource {
  /** The negotiated protocol, e.g. "TLSv1.3"; null or undefined before the handshake finished. */
  getProtocol(): string | null | undefined;
  exportKeyingMaterial(length: number, label: string, context: Buffer): Buffer | Uint8Array;
}

/**
 * The channel binding of one TLS connection: 32 bytes of its exporter (RFC 8446 section 7.5) with
 * CHANNEL_BINDING_LABEL and an empty context, as RFC 9266's "tls-exporter". Both ends of one
 * connection get the same value; a connection with other handshake randoms or another session
 * (another client, a relay terminating TLS, a replayed session) gets an unrelated one. Only TLS
 * 1.3: a TLS 1.2 exporter without the extended master secret can be made equal on two
 * connections (the triple handshake attack), and Node cannot say whether EMS was negotiated.
 */
export function channelBinding(connection: ExporterSource): Uint8Array {
  // A TLS 1.3 connection's exporter secret is fixed once the handshake is done (key updates do
  // not change it), so the value is read from OpenSSL once per connection: a Coordinator asks for
  // it on every NewMeshCert. The caller gets its own copy each time.
  const known = bindings.get(connection);
  if (known !== undefined) return known.slice();
  const protocol = connection.getProtocol();
  if (protocol !== "TLSv1.3") {
    throw new AtlsError(
      "ATLS_CHANNEL_BINDING_UNAVAILABLE",
      `no TLS exporter channel binding on a ${protocol ?? "not established"} connection; TLS 1.3 is required`,
    );
  }
  let binding: Buffer | Uint8Array;
  try {
    binding = connection.exportKeyingMaterial(CHANNEL_BINDING_BYTES, CHANNEL_BINDING_LABEL, Buffer.alloc(0));
  } catch (cause) {
    // E.g. the connection closed meanwhile.
    throw new AtlsError("ATLS_CHANNEL_BINDING_UNAVAILABLE", "the connection gave no TLS exporter", { cause });
  }
  const value = new Uint8Array(binding.buffer, binding.byteOffset, binding.byteLength).slice();
  bindings.set(connection, value);
  return value.slice();
}

const bindings = new WeakMap<ExporterSource, Uint8Array>();
