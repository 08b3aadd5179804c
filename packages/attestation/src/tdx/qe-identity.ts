import { bytesEqual, type JsonObject, toHex } from "@contrast/core";
import { AttestationPolicyError, EvidenceError } from "../errors.js";
import { arr, collateralError, hexField, num, obj, status } from "./collateral-fields.js";
import type { TdxQuote } from "./quote.js";
import type { TcbStatus } from "./tcb-status.js";

/** The QE identity check: masked MISCSELECT and ATTRIBUTES, MRSIGNER, ISVPRODID, QE TCB status. */
export function evaluateQe(quote: TdxQuote, id: JsonObject): TcbStatus {
  const qe = quote.qeReport;
  // Not a policy question: a QE that is not Intel's could have signed anything.
  const mismatch = (field: string, expected: string, actual: string) =>
    new EvidenceError(
      "TDX_QE_IDENTITY_MISMATCH",
      `QE report ${field} ${actual} does not match Intel's QE identity (${expected})`,
      {
        hint: "The quote was not produced by Intel's TD quoting enclave.",
        details: { field, expected, actual },
      },
    );
  if (id.id !== "TD_QE" || id.version !== 2) throw collateralError("QE identity must be TD_QE version 2");
  if (arr(id.tcbLevels, "QE tcbLevels").length === 0) throw collateralError("QE identity has no TCB levels");
  const miscMask = new DataView(hexField(id.miscselectMask, 4, "miscselectMask").buffer).getUint32(0, true);
  const misc = new DataView(hexField(id.miscselect, 4, "miscselect").buffer).getUint32(0, true);
  if ((qe.miscSelect & miscMask) >>> 0 !== misc)
    throw mismatch("MISCSELECT", misc.toString(16), qe.miscSelect.toString(16));
  const attrMask = hexField(id.attributesMask, 16, "attributesMask");
  const attrs = hexField(id.attributes, 16, "attributes");
  const masked = qe.attributes.map((b, i) => b & (attrMask[i] as number));
  if (!bytesEqual(masked, attrs)) throw mismatch("ATTRIBUTES", toHex(attrs), toHex(masked));
  const mrsigner = hexField(id.mrsigner, 32, "mrsigner");
  if (!bytesEqual(mrsigner, qe.mrSigner)) throw mismatch("MRSIGNER", toHex(mrsigner), toHex(qe.mrSigner));
  if (num(id.isvprodid, "isvprodid") !== qe.isvProdId)
    throw mismatch("ISVPRODID", String(id.isvprodid), String(qe.isvProdId));
  for (const raw of arr(id.tcbLevels, "QE tcbLevels")) {
    const level = obj(raw, "QE tcb level");
    if (num(obj(level.tcb, "QE tcb").isvsvn, "isvsvn") <= qe.isvSvn) return status(level.tcbStatus);
  }
  throw new AttestationPolicyError(
    "TDX_TCB_NOT_SUPPORTED",
    `QE ISVSVN ${qe.isvSvn} is below every level of Intel's QE identity`,
    {
      hint: "The quoting enclave is too old; update the platform's DCAP software.",
    },
  );
}
