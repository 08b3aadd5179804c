import type { ErrorCodeInfo } from "@contrast/core";

/**
 * Every code @contrast/atls reports, with what it means, its kind and the usual hint.
 * Programs branch on the code, never on the message; docs/errors.md is generated from this list.
 * Evidence and binding failures are `crypto`; a genuine peer whose claims are not allowed is
 * `policy`; broken handshakes are `input` or `io`.
 */
export const ATLS_ERROR_CODES = [
  {
    code: "ATLS_NONCE_MISSING",
    kind: "input",
    meaning: "A ClientHello carries neither an aTLS ALPN nonce nor an SNI nonce.",
    hint: "Connect with an aTLS client: it sends its nonce as ALPN atls:v1:nonce:<hex> or base64 in SNI.",
  },
  {
    code: "ATLS_NONCE_INVALID",
    kind: "input",
    meaning: "The client's nonce in ALPN or SNI cannot be decoded, or has the wrong length.",
    hint: "The nonce is 32 bytes: lower-case hex in ALPN atls:v1:nonce:<hex>, or standard padded base64 in SNI.",
  },
  {
    code: "ATLS_VERSION_UNSUPPORTED",
    kind: "input",
    meaning: "An ALPN entry starting with `atls` names a protocol version other than v1.",
    hint: "Use a client that speaks atls:v1.",
  },
  {
    code: "ATLS_CLIENT_HELLO_MALFORMED",
    kind: "input",
    meaning: "The first bytes of a connection are not a TLS ClientHello.",
    hint: "Connect with a TLS client; this port speaks attested TLS only.",
  },
  {
    code: "ATLS_CLIENT_HELLO_TOO_LARGE",
    kind: "input",
    meaning: "The ClientHello is larger than the server accepts.",
    hint: "A ClientHello is a few hundred bytes; check the client for oversized extensions.",
  },
  {
    code: "ATLS_HANDSHAKE_TIMEOUT",
    kind: "io",
    meaning: "A client did not finish the aTLS handshake in time.",
    hint: "Check the network between client and server; slow clients are disconnected.",
  },
  {
    code: "ATLS_HANDSHAKE_LIMIT",
    kind: "io",
    meaning: "The server is at its limit of concurrent handshakes and refused a connection.",
    hint: "Retry later, or raise maxConcurrentHandshakes.",
  },
  {
    code: "ATLS_HANDSHAKE_FAILED",
    kind: "io",
    meaning: "The TLS handshake failed or the connection closed during it.",
    hint: "Check that both sides speak TLS 1.2 or 1.3 with ALPN h2.",
  },
  {
    code: "ATLS_PEER_CERTIFICATE_MISSING",
    kind: "crypto",
    meaning: "The peer presented no certificate.",
    hint: "The peer is not an aTLS endpoint, or did not send a client certificate.",
  },
  {
    code: "ATLS_CERTIFICATE_MALFORMED",
    kind: "crypto",
    meaning: "The peer's aTLS certificate cannot be parsed.",
    hint: "The peer is not an aTLS endpoint, or its certificate was damaged.",
  },
  {
    code: "ATLS_CERTIFICATE_NOT_SELF_SIGNED",
    kind: "crypto",
    meaning: "The peer's aTLS certificate is not signed by its own key.",
    hint: "The certificate was tampered with, or the peer is not an aTLS endpoint.",
  },
  {
    code: "ATLS_CERTIFICATE_NOT_VALID_AT_TIME",
    kind: "crypto",
    meaning: "The peer's aTLS certificate is not valid now (its window is issue time ± 2 hours).",
    hint: "Check the clocks of both sides.",
  },
  {
    code: "ATLS_EVIDENCE_MISSING",
    kind: "crypto",
    meaning: "The peer's certificate carries no attestation evidence extension.",
    hint: "The peer is not running in a TEE, or is not an aTLS endpoint.",
  },
  {
    code: "ATLS_EVIDENCE_MALFORMED",
    kind: "crypto",
    meaning: "A part of the evidence (a key or certificate inside the document) cannot be parsed.",
    hint: "The evidence was damaged or forged. Do not trust this peer.",
  },
  {
    code: "ATLS_EVIDENCE_TYPE_UNSUPPORTED",
    kind: "crypto",
    meaning: "The evidence is of a type (certificate extension OID) this verifier does not accept.",
    hint: "Only SEV-SNP (1.3.9901.2.1, also the simulated TEE) and TDX (1.3.9901.2.2) evidence is accepted.",
  },
  {
    code: "ATLS_REPORT_DATA_MISMATCH",
    kind: "crypto",
    meaning: "The evidence's report data does not bind the presented key and the verifier's nonce.",
    hint: "The evidence was made for another key or nonce: a replay or a relay. Do not trust this peer.",
  },
  {
    code: "ATLS_NO_REFERENCE_VALUES",
    kind: "policy",
    meaning: "The reference values have no entry for the evidence's platform.",
    hint: "Add reference values for the peer's platform (snp, tdx or sim) to the manifest.",
  },
  {
    code: "ATLS_HOST_DATA_NOT_ALLOWED",
    kind: "policy",
    meaning: "The evidence's HOST_DATA (MRCONFIGID on TDX), the policy hash, is not one of the allowed ones.",
    hint: "The peer runs a policy the manifest does not list; update the manifest or the deployment.",
  },
  {
    code: "ATLS_CRL_REQUIRED",
    kind: "input",
    meaning: "Verifying hardware SEV-SNP evidence needs AMD's CRL, and none was available.",
    hint: "Provide a CRL getter, or accept unchecked revocation explicitly with allowMissingCrl.",
  },
  {
    code: "ATLS_ISSUER_FAILED",
    kind: "io",
    meaning: "The local TEE did not produce evidence.",
    hint: "Check that the process runs in a confidential VM with configfs-tsm, or use the sim platform.",
  },
  {
    code: "ATLS_CHANNEL_BINDING_UNAVAILABLE",
    kind: "crypto",
    meaning:
      "The connection cannot give a TLS exporter channel binding: it is not TLS 1.3 (a TLS 1.2 exporter without the extended master secret does not bind the session), or it is not established.",
    hint: "Connect with TLS 1.3 (every Contrast-TS client does), or bind the evidence to a nonce from NewAttestationNonce.",
  },
  {
    code: "ATLS_SERVER_CLOSED",
    kind: "io",
    meaning: "The aTLS server is closed.",
    hint: "Create a new server.",
  },
] as const satisfies readonly ErrorCodeInfo[];

export type AtlsErrorCode = (typeof ATLS_ERROR_CODES)[number]["code"];
