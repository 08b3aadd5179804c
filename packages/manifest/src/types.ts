/**
 * The manifest as Contrast v1.5 writes it. Property names are the JSON names, so the model reads
 * like the file. Where Go distinguishes `null` from an empty value, so does the model, because
 * the Coordinator hashes the exact bytes and a read-and-write must not change them.
 */
export interface Manifest {
  /** Policy hash (64 lower-case hex characters) to the identity that pods with it receive. */
  Policies: Map<string, PolicyEntry> | null;
  ReferenceValues: ReferenceValues;
  /** SHA-256 (hex) of the PKIX DER public key of each workload owner key (ECDSA P-384). */
  WorkloadOwnerKeyDigests: string[] | null;
  /** Hex PKCS#1 DER RSA public key of each seed share owner. */
  SeedshareOwnerPubKeys: string[] | null;
}

export interface PolicyEntry {
  /** DNS names, IP addresses or URIs for the mesh certificate. */
  SANs: string[] | null;
  /** Derivation input for the workload secret; omitted from JSON when empty. */
  WorkloadSecretID: string;
  /** "" or "coordinator"; omitted from JSON when empty. */
  Role: string;
}

export interface ReferenceValues {
  snp: SNPReferenceValues[];
  tdx: TDXReferenceValues[];
  /**
   * Reference values for the simulated TEE. Not part of upstream Contrast: upstream ignores the
   * key, so a simulated manifest there has no reference values at all and is rejected.
   */
  sim: SimReferenceValues[];
}

export interface SNPTCB {
  BootloaderVersion: number | null;
  TEEVersion: number | null;
  SNPVersion: number | null;
  MicrocodeVersion: number | null;
}

/** go-sev-guest's SnpPolicy, in its JSON field order. */
export interface SnpGuestPolicy {
  ABIMinor: number;
  ABIMajor: number;
  SMT: boolean;
  MigrateMA: boolean;
  Debug: boolean;
  SingleSocket: boolean;
  CXLAllowed: boolean;
  MemAES256XTS: boolean;
  RAPLDis: boolean;
  CipherTextHidingDRAM: boolean;
  /** Only in newer go-sev-guest releases; kept when present so nothing is lost. */
  PageSwapDisable?: boolean;
}

export interface SNPReferenceValues {
  MinimumTCB: SNPTCB;
  ProductName: string;
  /** 48-byte launch measurement, 96 hex characters. */
  TrustedMeasurement: string;
  GuestPolicy: SnpGuestPolicy;
  /**
   * Newer Contrast releases: the most PLATFORM_INFO may show (go-sev-guest's SnpPlatformInfo).
   * Absent (every v1.5 manifest): PLATFORM_INFO is not judged.
   */
  PlatformInfo?: SnpPlatformInfo;
  /**
   * Newer Contrast releases: bits both mitigation vectors (report version 5) must have. Held as a
   * JavaScript number, so at most 2^53 - 1; absent in v1.5 manifests.
   */
  MinimumMitigationVector?: number;
  /** 64-byte chip IDs; absent means any chip. `null` is kept distinct from absent. */
  AllowedChipIDs?: string[] | null;
}

/** go-sev-guest's SnpPlatformInfo, in its JSON field order. */
export interface SnpPlatformInfo {
  SMTEnabled: boolean;
  TSMEEnabled: boolean;
  ECCEnabled: boolean;
  RAPLDisabled: boolean;
  CiphertextHidingDRAMEnabled: boolean;
  AliasCheckComplete: boolean;
  TIOEnabled: boolean;
}

export interface SimReferenceValues extends SNPReferenceValues {
  /**
   * SHA-256 (hex) of the PKIX DER public key of the simulated ARK: the trust anchor that replaces
   * AMD's root. Required, because without it any self-made chain would verify.
   */
  ArkKeyDigest: string;
}

export interface TDXReferenceValues {
  MrTd: string;
  /** RTMR0..3. The misspelling is upstream v1.5's JSON name. */
  Rtrms: [string, string, string, string];
  MinimumQeSvn: number | null;
  MinimumPceSvn: number | null;
  /** 16 bytes, compared component-wise. */
  MinimumTeeTcbSvn: string;
  MrSeam: string;
  TdAttributes: string;
  Xfam: string;
  /**
   * Newer Contrast releases: the lowest tcbEvaluationDataNumber of Intel's collateral accepted.
   * Absent in v1.5 manifests (and then not written back); 0 means no minimum, as upstream.
   */
  MinTCBEvaluationDataNumber?: number;
  /**
   * Newer Contrast releases: 16-byte platform instance IDs (PCK certificate PIID) allowed; absent
   * or empty means any platform. `null` is kept distinct from absent.
   */
  AllowedPIIDs?: string[] | null;
}

export function emptyGuestPolicy(): SnpGuestPolicy {
  return {
    ABIMinor: 0,
    ABIMajor: 0,
    SMT: false,
    MigrateMA: false,
    Debug: false,
    SingleSocket: false,
    CXLAllowed: false,
    MemAES256XTS: false,
    RAPLDis: false,
    CipherTextHidingDRAM: false,
  };
}
