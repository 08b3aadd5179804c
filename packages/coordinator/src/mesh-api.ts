import { create } from "@bufbuild/protobuf";
import {
  EvidenceBinding,
  type MeshRecoverResponse,
  MeshRecoverResponseSchema,
  type NewAttestationNonceResponse,
  NewAttestationNonceResponseSchema,
  type NewMeshCertResponse,
  NewMeshCertResponseSchema,
} from "@contrast/api";
import { reportData } from "@contrast/atls";
import { bytesEqual, type Clock, ContrastError, type Logger, sha256, toHex, utf8 } from "@contrast/core";
import type { Manifest, PolicyEntry } from "@contrast/manifest";
import { encodeEcPrivateKey, snpClaimExtensions, tdxClaimExtensions } from "@contrast/mesh-pki";
import type { CertificateExtension } from "@contrast/x509";
import { type Caller, requireClientKey } from "./caller.js";
import { CoordinatorError } from "./errors.js";
import type { NonceTable } from "./nonces.js";
import type { CoordinatorState, StateKeeper } from "./state.js";
import type { EvidenceVerifier, VerifiedEvidence } from "./verifier.js";

export interface MeshApiContext {
  readonly keeper: StateKeeper;
  readonly clock: Clock;
  readonly log: Logger;
  readonly nonces: NonceTable;
  readonly verifyEvidence: EvidenceVerifier;
  readonly onAttestationFailure: (reason: string) => void;
}

/** The attestation fields of NewMeshCertRequest and MeshAPI.RecoverRequest. */
export interface AttestationInput {
  readonly AttestationNonce: Uint8Array;
  readonly Evidence: Uint8Array;
  readonly EvidenceOID: string;
  /** What the evidence binds besides the client key; unspecified (0) when left out. */
  readonly EvidenceBinding?: EvidenceBinding | undefined;
}

/** The role of the policy entries whose pods may recover from this Coordinator. */
export const COORDINATOR_ROLE = "coordinator";

const notReady = (phase: "recovery" | "uninitialised") => () =>
  new CoordinatorError(
    "COORDINATOR_MESH_NOT_READY",
    phase === "recovery" ? "coordinator is in recovery mode" : "coordinator is not initialized",
    { hint: "Run `contrast set` (or `contrast recover` after a restart); initializers retry until then." },
  );

/** A nonce for the caller's client key, to be bound by the evidence of its next NewMeshCert or Recover. */
export function newAttestationNonce(ctx: MeshApiContext, caller: Caller): NewAttestationNonceResponse {
  const key = requireClientKey(caller);
  const nonce = ctx.nonces.issue(sha256(key));
  return create(NewAttestationNonceResponseSchema, { Nonce: nonce, TtlSeconds: ctx.nonces.ttlSeconds });
}

/**
 * NewMeshCert: the caller proves with evidence bound to its client certificate key (and a nonce
 * this Coordinator issued to that key) that it runs a policy of the current manifest; it gets a
 * mesh certificate for exactly that key, the CAs and, if its policy entry names one, its workload
 * secret.
 */
export async function newMeshCert(
  ctx: MeshApiContext,
  request: AttestationInput,
  caller: Caller,
): Promise<NewMeshCertResponse> {
  const state = await ctx.keeper.running({ recovery: notReady("recovery"), uninitialised: notReady("uninitialised") });
  const { key, verified, entry } = await attest(ctx, state, request, caller);
  const leaf = state.ca.issueLeaf({
    publicKey: key,
    sans: entry.SANs ?? [],
    ...(entry.WorkloadSecretID === "" ? {} : { workloadSecretId: entry.WorkloadSecretID }),
    extensions: claimExtensions(verified),
  });
  const fixed = perState(state);
  return create(NewMeshCertResponseSchema, {
    MeshCACert: fixed.meshCaPem,
    CertChain: utf8(leaf.certChainPem),
    RootCACert: fixed.rootCaPem,
    ...(entry.WorkloadSecretID === "" ? {} : { WorkloadSecret: state.engine.workloadSecret(entry.WorkloadSecretID) }),
  });
}

/**
 * The serving side of peer recovery: a Coordinator in recovery attests with a policy whose entry
 * has role `coordinator` and gets the seed, the salt, the mesh CA key and the latest manifest.
 */
export async function meshRecover(
  ctx: MeshApiContext,
  request: AttestationInput,
  caller: Caller,
): Promise<MeshRecoverResponse> {
  const state = await ctx.keeper.running({ recovery: notReady("recovery"), uninitialised: notReady("uninitialised") });
  const { entry, policyHash } = await attest(ctx, state, request, caller);
  if (entry.Role !== COORDINATOR_ROLE) {
    ctx.onAttestationFailure("COORDINATOR_PEER_NOT_COORDINATOR");
    throw new CoordinatorError(
      "COORDINATOR_PEER_NOT_COORDINATOR",
      `role ${JSON.stringify(entry.Role)} not allowed to recover (policy ${policyHash})`,
      { hint: 'Only Coordinators whose policy entry has Role "coordinator" may recover from a peer.' },
    );
  }
  ctx.log.info("handing the state to a recovering peer Coordinator", { policyHash, generation: state.generation });
  return create(MeshRecoverResponseSchema, {
    Seed: state.seed,
    Salt: state.engine.salt,
    MeshCAKey: utf8(encodeEcPrivateKey(state.ca.meshCaKey)),
    LatestManifest: state.manifestBytes,
  });
}

async function attest(
  ctx: MeshApiContext,
  state: CoordinatorState,
  request: AttestationInput,
  caller: Caller,
): Promise<{ key: Uint8Array; verified: VerifiedEvidence; entry: PolicyEntry; policyHash: string }> {
  try {
    const key = requireClientKey(caller);
    const { oid, evidence, expected } = boundEvidence(ctx, request, caller, key);
    const policies = state.manifest.Policies ?? new Map<string, PolicyEntry>();
    const { allowedHostData, referenceValues } = perState(state);
    let verified: VerifiedEvidence;
    try {
      verified = await ctx.verifyEvidence({
        oid,
        evidence,
        reportData: expected,
        referenceValues,
        allowedHostData,
        now: ctx.clock.now(),
      });
    } catch (cause) {
      if (cause instanceof ContrastError) throw cause;
      throw new CoordinatorError("COORDINATOR_EVIDENCE_REJECTED", "the attestation evidence did not verify", {
        cause,
        hint: "Check the workload's platform and the manifest's reference values.",
      });
    }
    if (verified.reportData !== undefined && !bytesEqual(verified.reportData, expected)) {
      throw new CoordinatorError(
        "COORDINATOR_REPORT_DATA_MISMATCH",
        "the evidence does not bind the client certificate key and the nonce or channel binding",
        {
          hint: "Create the evidence for SHA-512(SPKI DER of the TLS client certificate key || nonce or TLS exporter).",
        },
      );
    }
    // TDX carries the policy hash in the first 32 bytes of the 48-byte MRCONFIGID.
    const policyHash = toHex(verified.hostData.subarray(0, 32));
    const entry = policies.get(policyHash);
    if (entry === undefined) {
      throw new CoordinatorError(
        "COORDINATOR_POLICY_NOT_IN_MANIFEST",
        `policy hash ${policyHash} not found in manifest`,
        {
          hint: "Run `contrast generate` and `contrast set` again, so that the manifest lists this workload's policy.",
          details: { policyHash },
        },
      );
    }
    return { key, verified, entry, policyHash };
  } catch (e) {
    const reason = e instanceof ContrastError ? e.code : "UNKNOWN";
    ctx.onAttestationFailure(reason);
    ctx.log.info("attestation failed", { reason });
    throw e;
  }
}

/**
 * The evidence of a call and the report data it must carry, by the request's binding. The
 * freshness value never comes from the request itself: a nonce is looked up (and consumed) in
 * this Coordinator's table for the caller's key, the TLS exporter is read from the caller's own
 * connection.
 */
function boundEvidence(
  ctx: MeshApiContext,
  request: AttestationInput,
  caller: Caller,
  key: Uint8Array,
): { oid: string; evidence: Uint8Array; expected: Uint8Array } {
  const binding = request.EvidenceBinding ?? EvidenceBinding.UNSPECIFIED;
  const { EvidenceOID: oid, Evidence: evidence, AttestationNonce: nonce } = request;
  switch (binding) {
    case EvidenceBinding.TLS_EXPORTER: {
      if (nonce.length > 0) throw bindingUnsupported("EvidenceBinding TLS_EXPORTER with an AttestationNonce");
      if (evidence.length === 0) throw missingEvidence();
      if (caller.channelBinding === undefined) {
        throw new CoordinatorError(
          "COORDINATOR_EVIDENCE_BINDING_UNSUPPORTED",
          "this transport offers no TLS exporter channel binding",
          { hint: "Bind the evidence to a nonce from NewAttestationNonce instead." },
        );
      }
      return { oid, evidence, expected: reportData(key, caller.channelBinding()) };
    }
    case EvidenceBinding.NONCE:
    case EvidenceBinding.UNSPECIFIED:
      if (binding === EvidenceBinding.NONCE || nonce.length > 0 || evidence.length > 0) {
        // Consumed first: the nonce is gone whatever happens next, so it cannot be tried twice.
        ctx.nonces.consume(nonce, sha256(key));
        if (evidence.length === 0) throw missingEvidence();
        return { oid, evidence, expected: reportData(key, nonce) };
      }
      if (caller.handshakeEvidence !== undefined) {
        const h = caller.handshakeEvidence;
        return { oid: h.oid, evidence: h.evidence, expected: h.reportData };
      }
      throw missingEvidence();
    default:
      throw bindingUnsupported(`EvidenceBinding ${String(binding)}`);
  }
}

function bindingUnsupported(what: string): CoordinatorError {
  return new CoordinatorError("COORDINATOR_EVIDENCE_BINDING_UNSUPPORTED", `${what} is not supported`, {
    hint: "Send EVIDENCE_BINDING_TLS_EXPORTER without AttestationNonce, or EVIDENCE_BINDING_NONCE with a nonce from NewAttestationNonce.",
  });
}

/**
 * What every attestation and certificate of one manifest generation shares, made once per state
 * rather than per call: the policy hashes evidence may carry (a manifest may list hundreds) and the
 * CA certificates as response bytes. Never mutated: grpc-js serialises the response at once.
 */
interface PerState {
  readonly allowedHostData: readonly string[];
  /** The manifest's reference values, deep-frozen, so @contrast/atls may keep what it derives per entry. */
  readonly referenceValues: Manifest["ReferenceValues"];
  readonly meshCaPem: Uint8Array;
  readonly rootCaPem: Uint8Array;
}

const perStateCache = new WeakMap<CoordinatorState, PerState>();

function perState(state: CoordinatorState): PerState {
  let fixed = perStateCache.get(state);
  if (fixed === undefined) {
    fixed = {
      // Frozen, so @contrast/atls may keep its lookup set for the list.
      allowedHostData: Object.freeze(
        [...(state.manifest.Policies ?? new Map<string, PolicyEntry>()).keys()].map((h) => h.toLowerCase()),
      ),
      referenceValues: deepFreeze(structuredClone(state.manifest.ReferenceValues)),
      meshCaPem: utf8(state.ca.meshCaPem),
      rootCaPem: utf8(state.ca.rootCaPem),
    };
    perStateCache.set(state, fixed);
  }
  return fixed;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

function missingEvidence(): CoordinatorError {
  return new CoordinatorError("COORDINATOR_EVIDENCE_MISSING", "the call carries no attestation evidence", {
    hint: "Send evidence bound to the connection's TLS exporter, or to a nonce from NewAttestationNonce, in the request.",
  });
}

function claimExtensions(v: VerifiedEvidence): CertificateExtension[] {
  if (v.tdxQuote !== undefined) return tdxClaimExtensions(v.tdxQuote.quote, v.tdxExtraBytes);
  if (v.snpReport !== undefined) return snpClaimExtensions(v.snpReport.report);
  return [];
}
