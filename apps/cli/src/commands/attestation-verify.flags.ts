import type { CommandSpec } from "../command-spec.js";

export const ATTESTATION_VERIFY: CommandSpec = {
  path: ["attestation", "verify"],
  summary: "verify a captured SEV-SNP report, TDX quote or simulated evidence and print its claims",
  args: [{ name: "<evidence-file>", description: "the raw attestation report or quote, or an evidence document" }],
  flags: [
    {
      flags: "--platform <platform>",
      description: "kind of evidence",
      doc: "`snp` hardware evidence, `tdx` an Intel TDX quote (v4 or v5) or a `tdx.QuoteV4` evidence document, `sim` the simulated TEE's",
      choices: ["snp", "tdx", "sim"],
      default: "snp",
    },
    { flags: "--vcek <file>", description: "the VCEK or VLEK (DER or PEM)" },
    {
      flags: "--cert-chain <file>",
      description: "ASK then ARK (PEM); required for sim, ignored for snp (AMD's roots are pinned)",
      doc: "ASK (or ASVK) then ARK, PEM. **Required for `sim`** (its own anchor). Ignored for `snp`: AMD's roots for Milan, Genoa and Turin are pinned",
    },
    {
      flags: "--collateral <dir>",
      description:
        "snp/sim: directory with vcek.der and cert_chain.pem; tdx: directory of PCS responses or a collateral JSON file",
      doc: "`snp`/`sim`: a directory with `vcek.der`/`vcek.pem`, `cert_chain.pem` and `crl.der`; `tdx`: a dcap-qvl collateral JSON file, or a directory of PCS responses",
    },
    {
      flags: "--crl <file>",
      description: "snp/sim: AMD's CRL (DER) for the product; checked when given",
      doc: "AMD's CRL (DER) for the product, from `https://kdsintf.amd.com/{vcek,vlek}/v1/<product>/crl`",
    },
    {
      flags: "--allow-missing-crl",
      description: "snp: judge --reference-values without AMD's CRL (revocation unchecked)",
      doc: "`snp`: judge `--reference-values` without AMD's CRL; revocation then stays unchecked (a warning says so)",
    },
    {
      flags: "--reference-values <file>",
      description: "manifest.json, a ReferenceValues object or an array of entries",
      doc: "`manifest.json`, a `ReferenceValues` object, or an array of entries; the evidence must match one entry",
    },
    { flags: "--report-data <hex>", description: "expected REPORT_DATA (64 bytes)" },
    { flags: "--host-data <hex>", description: "expected HOST_DATA (32 bytes), e.g. a policy hash" },
    {
      flags: "--product <name>",
      description: "Milan, Genoa or Turin (needed for some version 2 reports)",
      doc: "Milan, Genoa or Turin, for version 2 reports whose certificate does not name the product",
    },
    {
      flags: "--skip-id-block",
      description: "snp/sim: do not require Contrast's deterministic ID block (for evidence from other launchers)",
    },
    {
      flags: "--now <time>",
      description: "verification time, RFC 3339 (default: now)",
      doc: "verification time, RFC 3339 (default: now), for evidence captured in the past",
    },
    {
      flags: "--accept-tcb-status <list>",
      description: "tdx: TCB statuses to accept, comma-separated (default: UpToDate)",
    },
    {
      flags: "--collateral-dir <dir>",
      description: "tdx: collateral cache and offline bundle (Intel PCS responses by URL)",
      doc: "`tdx`: collateral cache and offline bundle: Intel's responses kept under their Intel URLs until their `nextUpdate`",
    },
    {
      flags: "--fetch-collateral",
      description: "tdx: fetch missing or stale collateral from Intel's PCS (into --collateral-dir)",
      doc: "`tdx`: fetch missing or stale collateral (TCB info, QE identity, PCK CRL, root CA CRL) from Intel's PCS, into `--collateral-dir` if given",
    },
    {
      flags: "--pcs-url <url>",
      description: "tdx: origin replacing Intel's in collateral URLs, e.g. a PCCS mirror",
      doc: "`tdx`, with `--fetch-collateral`: fetch from this origin instead of Intel's (a PCCS mirror serving Intel's paths); the cache keeps Intel's URLs",
    },
  ],
  verdict: "the evidence is genuine but does not match the reference values (an error of kind `policy`)",
};
