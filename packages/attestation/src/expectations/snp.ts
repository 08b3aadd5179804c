import { fromHex } from "@contrast/core";
import type { SNPReferenceValues } from "@contrast/manifest";
import { contrastIdKeyDigest, type SnpExpectations } from "../snp/validate.js";

/** Values bound into the evidence by the protocol, not by the manifest. */
export interface EvidenceBindings {
  /** 64 bytes the report must carry as REPORT_DATA (aTLS: the key and nonce binding). */
  readonly reportData?: Uint8Array | undefined;
  /** 32 bytes the report must carry as HOST_DATA (Contrast: the policy hash). */
  readonly hostData?: Uint8Array | undefined;
}

export interface SnpExpectationOptions extends EvidenceBindings {
  /**
   * Whether the guest was launched with Contrast's ID block (the default, as every Contrast
   * runtime launches), so that ID_KEY_DIGEST must be the one derived from measurement and policy.
   */
  readonly idBlock?: boolean | undefined;
}

/**
 * A manifest's SNP (or sim) reference values entry as the expectations validateSnpReport checks.
 * One function for the CLI, aTLS and the Coordinator, so that they judge evidence alike.
 */
export function snpExpectations(rv: SNPReferenceValues, options: SnpExpectationOptions = {}): SnpExpectations {
  const t = rv.MinimumTCB;
  const gp = rv.GuestPolicy;
  const measurement = fromHex(rv.TrustedMeasurement, 48);
  const guestPolicy = {
    abiMajor: gp.ABIMajor,
    abiMinor: gp.ABIMinor,
    smt: gp.SMT,
    migrateMa: gp.MigrateMA,
    debug: gp.Debug,
    singleSocket: gp.SingleSocket,
    cxlAllowed: gp.CXLAllowed,
    memAes256Xts: gp.MemAES256XTS,
    raplDis: gp.RAPLDis,
    ciphertextHidingDram: gp.CipherTextHidingDRAM,
    pageSwapDisable: gp.PageSwapDisable ?? false,
  };
  const pi = rv.PlatformInfo;
  return {
    measurement,
    // Upstream picks the AMD roots by ProductName, so an entry only ever matches its own product.
    ...(rv.ProductName === "Milan" || rv.ProductName === "Genoa" ? { product: rv.ProductName } : {}),
    ...(pi === undefined
      ? {}
      : {
          platformInfo: {
            smtEnabled: pi.SMTEnabled,
            tsmeEnabled: pi.TSMEEnabled,
            eccEnabled: pi.ECCEnabled,
            raplDisabled: pi.RAPLDisabled,
            ciphertextHidingDramEnabled: pi.CiphertextHidingDRAMEnabled,
            aliasCheckComplete: pi.AliasCheckComplete,
            tioEnabled: pi.TIOEnabled,
          },
        }),
    ...(rv.MinimumMitigationVector ? { minimumMitigationVector: BigInt(rv.MinimumMitigationVector) } : {}),
    minimumTcb: {
      bootloader: t.BootloaderVersion ?? 0,
      tee: t.TEEVersion ?? 0,
      snp: t.SNPVersion ?? 0,
      microcode: t.MicrocodeVersion ?? 0,
    },
    guestPolicy,
    // Contrast launches every guest with an ID block derived from these two values.
    ...(options.idBlock !== false ? { idKeyDigest: contrastIdKeyDigest(measurement, guestPolicy) } : {}),
    ...(rv.AllowedChipIDs && rv.AllowedChipIDs.length > 0
      ? { allowedChipIds: rv.AllowedChipIDs.map((id) => fromHex(id, 64)) }
      : {}),
    ...(options.reportData ? { reportData: options.reportData } : {}),
    ...(options.hostData ? { hostData: options.hostData } : {}),
  };
}
