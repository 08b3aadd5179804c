// @contrast/atls: attested TLS as Contrast speaks it. Certificates carry TEE evidence bound to
// their key and the verifier's nonce; verifyEvidence is the one judge of evidence for clients,
// the Coordinator and the CLI; the server runs aTLS per connection for grpc-js, the client
// credentials verify the server before any request is written.

export {
  ATLS_VALIDITY_MS,
  type AtlsCertificate,
  type CreateAtlsCertificateOptions,
  checkAtlsCertificate,
  createAtlsCertificate,
  type ParsedAtlsCertificate,
  readAtlsCertificate,
} from "./certificate.js";
export {
  CHANNEL_BINDING_BYTES,
  CHANNEL_BINDING_LABEL,
  channelBinding,
  type ExporterSource,
} from "./channel-binding.js";
export { HandshakeChannelCredentials } from "./channel-credentials.js";
export {
  AtlsChannelCredentials,
  type AtlsClientOptions,
  type AtlsConnection,
  atlsChannelCredentials,
  atlsConnect,
  atlsHandshake,
} from "./client.js";
export { type ClientHelloInfo, type ClientHelloParse, parseClientHello } from "./client-hello.js";
export { ATLS_ERROR_CODES, type AtlsErrorCode } from "./error-codes.js";
export { AtlsError } from "./errors.js";
export { type EvidenceIssuer, type EvidencePlatform, type SimIssuerOptions, simIssuer, tsmIssuer } from "./issuer.js";
export { ALPN_NONCE_PREFIX, NONCE_BYTES, nonceFromClientHello, nonceToAlpn, nonceToServerName } from "./nonce.js";
export { reportData } from "./report-data.js";
export { type AtlsPeer, type AtlsServer, type AtlsServerOptions, createAtlsServer } from "./server.js";
export {
  type AtlsReferenceValues,
  EvidenceCache,
  type EvidenceCollateral,
  type VerifiedEvidence,
  type VerifyEvidenceOptions,
  verifyEvidence,
} from "./verify-evidence.js";
export { type AtlsAttestedPeer, type AtlsVerifyOptions, verifyAtlsCertificate } from "./verify-peer.js";
