/**
 * Kubernetes resource quantities (k8s.io/apimachinery resource.Quantity) as numbers of bytes:
 * a decimal with an optional binary (Ki..Ei), decimal (n, u, m, k, M..E) or exponent (e3) suffix.
 * A YAML number counts as plain bytes. Undefined for anything Kubernetes would reject.
 */
export function parseQuantity(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== "string") return undefined;
  const m = /^\+?([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][-+]?[0-9]+)?$/.exec(
    value.trim(),
  );
  if (m === null) return undefined;
  const n = Number(m[1]);
  const suffix = m[2] ?? "";
  const factor = SUFFIXES[suffix] ?? (/^[eE]/.test(suffix) ? 10 ** Number(suffix.slice(1)) : undefined);
  return factor === undefined ? undefined : n * factor;
}

const SUFFIXES: Readonly<Record<string, number>> = {
  "": 1,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

export const MIB = 2 ** 20;
