const CODE_PATTERN = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/;
const KINDS = new Set(["input", "crypto", "policy", "io", "internal"]);
const SEVERITIES = new Set(["error", "warning", "expected-missing", "info"]);

/** Whether `code` falls under `prefix`: a word prefix ending in "_", or the whole code. */
export function hasPrefix(code, prefix) {
  return prefix.endsWith("_") ? code.startsWith(prefix) : code === prefix;
}

/**
 * The packages whose prefixes a code falls under. A whole-code prefix is an exception that wins
 * over word prefixes: it names the one package a historical code belongs to, even when the code
 * also starts with another package's word prefix (the CLI's FILE_TOO_LARGE under core's FILE_).
 */
export function claimantsOf(code, registries) {
  const exact = registries.filter((r) => r.prefixes.includes(code)).map((r) => r.package);
  if (exact.length > 0) return exact;
  return registries.filter((r) => r.prefixes.some((p) => hasPrefix(code, p))).map((r) => r.package);
}

/**
 * Every problem of a set of registries, as sentences: a code declared twice (in one package or
 * across packages), a code outside its package's prefixes or inside another's, a prefix two
 * packages claim, a malformed code, an unknown kind, or an empty meaning or hint.
 */
export function checkRegistries(registries) {
  const problems = [];
  const owner = new Map();
  for (const r of registries) {
    for (const e of r.codes) {
      const where = `${r.package}: ${e.code}`;
      if (!CODE_PATTERN.test(e.code)) problems.push(`${where}: not SCREAMING_SNAKE`);
      if (!KINDS.has(e.kind)) problems.push(`${where}: unknown kind ${JSON.stringify(e.kind)}`);
      for (const field of ["meaning", "hint"]) {
        if (typeof e[field] !== "string" || e[field].trim() === "") problems.push(`${where}: empty ${field}`);
      }
      const first = owner.get(e.code);
      if (first === undefined) owner.set(e.code, r.package);
      else problems.push(`${where}: collides with the same code in ${first}`);
      const claimants = claimantsOf(e.code, registries);
      if (!claimants.includes(r.package)) problems.push(`${where}: outside the package's prefixes`);
      const others = claimants.filter((p) => p !== r.package);
      if (others.length > 0) problems.push(`${where}: also under the prefixes of ${others.join(", ")}`);
    }
  }
  // Findings: the same rules, except that a finding may share its code with an error of its own
  // package (one condition, an error by default and a warning when the caller relaxes it).
  const findingOwner = new Map();
  for (const r of registries) {
    for (const f of r.findings ?? []) {
      const where = `${r.package}: ${f.code} (finding)`;
      if (!CODE_PATTERN.test(f.code)) problems.push(`${where}: not SCREAMING_SNAKE`);
      for (const s of f.severities ?? ["warning"]) {
        if (!SEVERITIES.has(s)) problems.push(`${where}: unknown severity ${JSON.stringify(s)}`);
      }
      for (const field of ["meaning", "hint"]) {
        if (typeof f[field] !== "string" || f[field].trim() === "") problems.push(`${where}: empty ${field}`);
      }
      const first = findingOwner.get(f.code);
      if (first === undefined) findingOwner.set(f.code, r.package);
      else problems.push(`${where}: collides with the same finding in ${first}`);
      const errorOwner = owner.get(f.code);
      if (errorOwner !== undefined && errorOwner !== r.package) {
        problems.push(`${where}: collides with the same code in ${errorOwner}`);
      }
      const claimants = claimantsOf(f.code, registries);
      if (!claimants.includes(r.package)) problems.push(`${where}: outside the package's prefixes`);
      const others = claimants.filter((p) => p !== r.package);
      if (others.length > 0) problems.push(`${where}: also under the prefixes of ${others.join(", ")}`);
    }
  }
  const prefixOwner = new Map();
  for (const r of registries) {
    for (const p of r.prefixes) {
      const first = prefixOwner.get(p);
      if (first === undefined) prefixOwner.set(p, r.package);
      else problems.push(`prefix ${p} is claimed by ${first} and ${r.package}`);
    }
  }
  return problems;
}
