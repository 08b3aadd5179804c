// @contrast/mesh-proxy: the service-mesh proxy of a confidential pod (upstream's Envoy sidecar):
// ingress TLS termination, egress mTLS, metrics and the admin interface. Everything is injected;
// apps/service-mesh reads files and the environment and sets up the interception.

export { type AdminOptions, AdminServer } from "./admin.js";
export {
  formatHostPort,
  type HostPort,
  MESH_ENV,
  type MeshConfig,
  meshConfigFromEnv,
  parseHostPort,
} from "./config.js";
export {
  loadMeshCredentials,
  MESH_TLS_FILES,
  type MeshCredentialFiles,
  type MeshCredentials,
  secureContextFor,
  tlsOptionsFor,
} from "./credentials.js";
export { EgressListener, type EgressOptions } from "./egress.js";
export { MESH_PROXY_ERROR_CODES, type MeshProxyErrorCode } from "./error-codes.js";
export { MeshProxyError } from "./errors.js";
export {
  type ClientAuth,
  fixedTarget,
  IngressListener,
  type IngressOptions,
  type ResolveTarget,
} from "./ingress.js";
export { type ListenerOptions, ProxyListener } from "./listener.js";
export { type ByteSource, type CloseReason, type HandshakeFailureReason, MeshMetrics } from "./metrics.js";
export { DEFAULT_MAX_HANDSHAKES, DEFAULT_TIMEOUTS, HandshakeLimiter, type ProxyTimeouts } from "./timeouts.js";
