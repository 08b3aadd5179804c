export type TcbStatus =
  | "UpToDate"
  | "SWHardeningNeeded"
  | "ConfigurationNeeded"
  | "ConfigurationAndSWHardeningNeeded"
  | "OutOfDate"
  | "OutOfDateConfigurationNeeded"
  | "Revoked";

/** Every TCB status Intel defines, best first. */
export const TCB_STATUSES: readonly TcbStatus[] = [
  "UpToDate",
  "SWHardeningNeeded",
  "ConfigurationNeeded",
  "ConfigurationAndSWHardeningNeeded",
  "OutOfDate",
  "OutOfDateConfigurationNeeded",
  "Revoked",
];

/** The later of two statuses in Intel's list (best first). */
export function worse(a: TcbStatus, b: TcbStatus): TcbStatus {
  return TCB_STATUSES.indexOf(a) >= TCB_STATUSES.indexOf(b) ? a : b;
}

/** Applies a lower component's status to the platform's, as Intel's QVL converges them. */
export function converge(level: TcbStatus, other: TcbStatus | undefined): TcbStatus {
  if (other === "Revoked") return "Revoked";
  if (other === "OutOfDate" || other === "OutOfDateConfigurationNeeded") {
    if (level === "UpToDate" || level === "SWHardeningNeeded") return "OutOfDate";
    if (level === "ConfigurationNeeded" || level === "ConfigurationAndSWHardeningNeeded")
      return "OutOfDateConfigurationNeeded";
  }
  return level;
}
