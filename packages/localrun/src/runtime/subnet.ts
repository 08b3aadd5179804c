import { createHash } from "node:crypto";
import { LocalrunError } from "./errors.js";

/** An IPv4 prefix as two numbers. */
interface Prefix {
  readonly base: number;
  readonly bits: number;
}

function parseIpv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    value = value * 256 + Number(p);
  }
  return value;
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(value / 2 ** s) % 256).join(".");
}

export function parsePrefix(text: string): Prefix | undefined {
  const [addr, bitsText] = text === "default" ? ["0.0.0.0", "0"] : text.split("/");
  const base = parseIpv4(addr ?? "");
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  if (base === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) return undefined;
  const size = 2 ** (32 - bits);
  return { base: base - (base % size), bits };
}

function overlaps(a: Prefix, b: Prefix): boolean {
  const bits = Math.min(a.bits, b.bits);
  const size = 2 ** (32 - bits);
  return Math.floor(a.base / size) === Math.floor(b.base / size);
}

/**
 * The prefixes the host already routes or has addresses in, from `ip -4 -o addr` and
 * `ip -4 route show table all` output. The default route is ignored: everything overlaps it.
 */
export function usedPrefixes(addrOutput: string, routeOutput: string): Prefix[] {
  const out: Prefix[] = [];
  for (const m of addrOutput.matchAll(/\binet\s+(\d+\.\d+\.\d+\.\d+\/\d+)/g)) {
    const p = parsePrefix(m[1] ?? "");
    if (p !== undefined) out.push(p);
  }
  for (const line of routeOutput.split("\n")) {
    const words = line.trim().split(/\s+/);
    const dest = words[0] === "local" || words[0] === "broadcast" || words[0] === "unicast" ? words[1] : words[0];
    if (dest === undefined || dest === "" || dest === "default") continue;
    const p = parsePrefix(dest);
    if (p !== undefined && p.bits > 0) out.push(p);
  }
  return out;
}

/**
 * A /24 for the pod network that no host route or address touches. The search starts at a point
 * derived from `seed` (the work directory), so two clusters started side by side pick different
 * networks; it covers 10.200.0.0 to 10.249.255.0.
 */
export function chooseSubnet(used: readonly Prefix[], seed: string, requested?: string): string {
  if (requested !== undefined) {
    const p = parsePrefix(requested);
    if (p === undefined || p.bits !== 24 || formatIpv4(p.base) !== requested.split("/")[0]) {
      throw new LocalrunError(
        "LOCALRUN_SUBNET_UNAVAILABLE",
        `the pod network ${JSON.stringify(requested)} is not an IPv4 /24`,
        {
          hint: "Pass a network like 10.213.7.0/24.",
        },
      );
    }
    const clash = used.find((u) => overlaps(u, p));
    if (clash !== undefined) {
      throw new LocalrunError(
        "LOCALRUN_SUBNET_UNAVAILABLE",
        `the pod network ${requested} overlaps ${formatIpv4(clash.base)}/${clash.bits}, which this machine already uses`,
        { kind: "io", hint: "Pass a /24 that no route of this machine covers." },
      );
    }
    return requested;
  }
  const count = 50 * 256;
  const start = createHash("sha256").update(seed).digest().readUInt32BE(0) % count;
  for (let i = 0; i < count; i++) {
    const n = (start + i) % count;
    const base = (10 * 256 + 200 + Math.floor(n / 256)) * 65536 + (n % 256) * 256;
    const candidate = { base, bits: 24 };
    if (!used.some((u) => overlaps(u, candidate))) return `${formatIpv4(base)}/24`;
  }
  throw new LocalrunError(
    "LOCALRUN_SUBNET_UNAVAILABLE",
    "no free /24 in 10.200.0.0/16 to 10.249.0.0/16 for the pod network",
    {
      kind: "io",
      hint: "Pass a /24 that no route of this machine covers.",
    },
  );
}
