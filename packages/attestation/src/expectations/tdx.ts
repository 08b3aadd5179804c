import { fromHex } from "@contrast/core";
import type { TDXReferenceValues } from "@contrast/manifest";
import type { TdxExpectations } from "../tdx/validate.js";
import type { EvidenceBindings } from "./snp.js";

/** A manifest's TDX reference values entry as the expectations validateTdxQuote checks. */
export function tdxExpectations(rv: TDXReferenceValues, bindings: EvidenceBindings = {}): TdxExpectations {
  return {
    mrTd: fromHex(rv.MrTd, 48),
    rtmrs: [fromHex(rv.Rtrms[0], 48), fromHex(rv.Rtrms[1], 48), fromHex(rv.Rtrms[2], 48), fromHex(rv.Rtrms[3], 48)],
    mrSeam: fromHex(rv.MrSeam),
    xfam: fromHex(rv.Xfam, 8),
    tdAttributes: fromHex(rv.TdAttributes, 8),
    minimumQeSvn: rv.MinimumQeSvn ?? 0,
    minimumPceSvn: rv.MinimumPceSvn ?? 0,
    minimumTeeTcbSvn: fromHex(rv.MinimumTeeTcbSvn, 16),
    ...(bindings.reportData ? { reportData: bindings.reportData } : {}),
    ...(bindings.hostData ? { hostData: bindings.hostData } : {}),
    ...(rv.MinTCBEvaluationDataNumber ? { minTcbEvaluationDataNumber: rv.MinTCBEvaluationDataNumber } : {}),
    ...(rv.AllowedPIIDs ? { allowedPiids: rv.AllowedPIIDs.map((p) => fromHex(p, 16)) } : {}),
  };
}
