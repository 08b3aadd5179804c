import { ContrastError, type LogLevel, parseLogLevel } from "@contrast/core";
import { Command, Option } from "commander";
import type { Io } from "./cli.js";
import { type Context, createCliLogger } from "./context.js";
import type { Output, OutputFormat } from "./output.js";

interface RawGlobals {
  logLevel: string;
  workspaceDir?: string;
  output: OutputFormat;
}

/** Parses the command line and runs the command; returns the exit status and never throws. */
export async function runProgram(argv: readonly string[], io: Io, out: Output): Promise<number> {
  try {
    let status = 0;
    const program = buildProgram(io, out, (s) => {
      status = s;
    });
    await program.parseAsync([...argv], { from: "user" });
    return status;
  } catch (e) {
    if (isCommanderError(e)) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.help" || e.exitCode === 0) return 0;
      out.error(
        new ContrastError("CLI_USAGE", e.message.replace(/^error: /, ""), {
          hint: "Run `contrast --help` or `contrast <command> --help` for usage.",
        }),
      );
      return 1;
    }
    const err = ContrastError.from(e);
    out.error(err);
    // Genuine evidence that does not match expectations is told apart from broken evidence.
    return err.kind === "policy" ? 2 : 1;
  }
}

function isCommanderError(e: unknown): e is Error & { code: string; exitCode: number } {
  const code = (e as { code?: unknown } | null)?.code;
  return e instanceof Error && typeof code === "string" && code.startsWith("commander.");
}

export function buildProgram(io: Io, out: Output, setStatus: (s: number) => void): Command {
  const program = new Command("contrast")
    .description(
      "Confidential containers on Kubernetes: generate policies and manifests, set and verify the Coordinator, recover it.",
    )
    .option("--version", "print version and supported platforms")
    .option("--log-level <level>", "log level: debug, info, warn, error, or a number", "warn")
    .option("--workspace-dir <dir>", "directory that default file paths are relative to")
    .addOption(new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text"))
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // Usage errors are rendered by run() with a code and hint.
      outputError: () => {},
    })
    .action(() => {
      program.help();
    });

  const context = (cmd: Command): Context => {
    const g = cmd.optsWithGlobals() as RawGlobals;
    const logLevel: LogLevel = parseLogLevel(g.logLevel);
    return {
      out,
      cwd: io.cwd,
      logLevel,
      workspaceDir: g.workspaceDir,
      log: createCliLogger(io.stderr, logLevel),
    };
  };

  const manifest = program
    .command("manifest")
    .description("inspect manifest files")
    .action(() => {
      manifest.help();
    });
  manifest
    .command("validate")
    .description("check a manifest and list every problem with its code and hint")
    .argument("[file]", "manifest file (default: manifest.json in --workspace-dir or the current directory)")
    .option("--strict", "also fail on warnings and expected-missing values")
    .action(async (file: string | undefined, opts: { strict?: boolean }, cmd: Command) => {
      const { manifestValidate } = await import("./commands/manifest-validate.js");
      setStatus(await manifestValidate(context(cmd), file, opts));
    });

  const attestation = program
    .command("attestation")
    .description("verify attestation evidence offline")
    .action(() => {
      attestation.help();
    });
  attestation
    .command("verify")
    .description("verify a captured SEV-SNP report, TDX quote or simulated evidence and print its claims")
    .argument("<evidence-file>", "the raw attestation report or quote")
    .addOption(new Option("--platform <platform>", "kind of evidence").choices(["snp", "tdx", "sim"]).default("snp"))
    .option("--vcek <file>", "the VCEK or VLEK (DER or PEM)")
    .option("--cert-chain <file>", "ASK then ARK (PEM); required for sim, ignored for snp (AMD's roots are pinned)")
    .option(
      "--collateral <dir>",
      "snp/sim: directory with vcek.der and cert_chain.pem; tdx: directory of PCS responses or a collateral JSON file",
    )
    .option("--crl <file>", "snp/sim: AMD's CRL (DER) for the product; checked when given")
    .option("--allow-missing-crl", "snp: judge --reference-values without AMD's CRL (revocation unchecked)")
    .option("--reference-values <file>", "manifest.json, a ReferenceValues object or an array of entries")
    .option("--report-data <hex>", "expected REPORT_DATA (64 bytes)")
    .option("--host-data <hex>", "expected HOST_DATA (32 bytes), e.g. a policy hash")
    .option("--product <name>", "Milan, Genoa or Turin (needed for some version 2 reports)")
    .option(
      "--skip-id-block",
      "snp/sim: do not require Contrast's deterministic ID block (for evidence from other launchers)",
    )
    .option("--now <time>", "verification time, RFC 3339 (default: now)")
    .option("--accept-tcb-status <list>", "tdx: TCB statuses to accept, comma-separated (default: UpToDate)")
    .option("--collateral-dir <dir>", "tdx: collateral cache and offline bundle (Intel PCS responses by URL)")
    .option("--fetch-collateral", "tdx: fetch missing or stale collateral from Intel's PCS (into --collateral-dir)")
    .option("--pcs-url <url>", "tdx: origin replacing Intel's in collateral URLs, e.g. a PCCS mirror")
    .action(
      async (file: string, opts: import("./commands/attestation-verify.js").AttestationVerifyOptions, cmd: Command) => {
        const { attestationVerify } = await import("./commands/attestation-verify.js");
        setStatus(await attestationVerify(context(cmd), file, opts));
      },
    );

  const policy = program
    .command("policy")
    .description("generate and check Kata agent policies")
    .action(() => {
      policy.help();
    });
  policy
    .command("check")
    .description("evaluate agent requests against a policy; exit 0 allowed, 1 denied, 2 error")
    .argument(
      "<policy>",
      "a .rego file, the base64 annotation value, or YAML carrying io.katacontainers.config.agent.policy",
    )
    .argument("[request]", "the request as JSON (with --kind)")
    .option("--kind <name>", "the request's name, e.g. CreateContainerRequest")
    .option("--requests <file>", 'a request stream: one ["ep":"<RequestName>",{json}], entry per line')
    .option("--trace <lines>", "policy print lines to show for a denial (with --log-level debug)", "8")
    .option("--honest", "build each workload's honest requests from the YAML and check them with its policy")
    .option(
      "--platform <name>",
      "the platform whose Contrast runtime the policy is for (policy profile; --honest builds its requests, and the agent's Rego dialect is checked), e.g. metal-qemu-snp, aks-clh-snp",
    )
    .option("--settings <file>", "--honest: genpolicy settings, as for policy generate", "settings.json")
    .option("--image-metadata <file>", "--honest: offline image metadata file (docs/image-metadata.md)")
    .option("--layers-cache <file>", "--honest: genpolicy-compatible image layer cache", "layers-cache.json")
    .option("--insecure-registry <host>", "--honest: registry to reach over plain HTTP (repeatable)", collect, [])
    .option(
      "--config <file>",
      "--honest: YAML with ConfigMaps and Secrets the workloads refer to (repeatable)",
      collect,
      [],
    )
    .option("--sandbox-name <name>", "--honest: the pod's name (default: the name a controller would give it)")
    .option("--namespace <ns>", "--honest: the pod's namespace (default: the workload's, else default)")
    .option(
      "--workload <name>",
      "the workload (metadata.name) whose policy decides, in a YAML with several; with --honest, only that workload",
    )
    .action(
      async (
        file: string,
        request: string | undefined,
        opts: import("./commands/policy-check.js").PolicyCheckOptions,
        cmd: Command,
      ) => {
        const { policyCheck } = await import("./commands/policy-check.js");
        setStatus(await policyCheck(context(cmd), file, request, withDefaults(cmd, opts)));
      },
    );

  policy
    .command("requests")
    .description("write the requests an honest runtime sends for a workload (for policy check --requests)")
    .argument("<yaml>", "Kubernetes YAML with the workload")
    .option("--output-file <file>", "write the stream there instead of stdout")
    .option(
      "--platform <name>",
      "the platform whose Contrast runtime the policy is for (policy profile), e.g. metal-qemu-snp, aks-clh-snp",
    )
    .option("--settings <file>", "genpolicy settings, as for policy generate", "settings.json")
    .option("--image-metadata <file>", "offline image metadata file (docs/image-metadata.md)")
    .option("--layers-cache <file>", "genpolicy-compatible image layer cache", "layers-cache.json")
    .option("--insecure-registry <host>", "registry to reach over plain HTTP (repeatable)", collect, [])
    .option("--config <file>", "YAML with ConfigMaps and Secrets the workloads refer to (repeatable)", collect, [])
    .option("--sandbox-name <name>", "the pod's name (default: the name a controller would give it)")
    .option("--namespace <ns>", "the pod's namespace (default: the workload's, else default)")
    .option("--workload <name>", "only the workload of this name")
    .action(async (file: string, opts: import("./commands/policy-requests.js").PolicyRequestsOptions, cmd: Command) => {
      const { policyRequests } = await import("./commands/policy-requests.js");
      setStatus(await policyRequests(context(cmd), file, withDefaults(cmd, opts)));
    });

  policy
    .command("generate")
    .description("annotate confidential workloads (runtimeClassName contrast-cc*) with their agent policy")
    .argument("<paths...>", "YAML files, or directories searched for .yml/.yaml files")
    .option(
      "--platform <name>",
      "the platform whose Contrast runtime the policy is for (policy profile), default metal-qemu-snp; e.g. aks-clh-snp, k3s-qemu-tdx, sim, kata (stock Kata)",
    )
    .option("--settings <file>", "genpolicy settings; drop-ins from <name>.d/ next to it", "settings.json")
    .option(
      "--rules <file>",
      "Rego rules the policy starts with; the built-in rules if the default file does not exist",
      "rules.rego",
    )
    .option("--layers-cache <file>", "genpolicy-compatible image layer cache", "layers-cache.json")
    .option(
      "--image-metadata <file>",
      "offline: image metadata file (docs/image-metadata.md); no registry is contacted",
    )
    .option("--insecure-registry <host>", "registry to reach over plain HTTP (repeatable)", collect, [])
    .option("--config <file>", "more YAML with ConfigMaps and Secrets the workloads refer to (repeatable)", collect, [])
    .option("--output-file <file>", "write the annotated YAML there instead of changing the files in place")
    .option("--allow-unsupported-fields", "warn about unknown pod-spec fields instead of failing")
    .option("--pin-images", "rewrite image tags in the YAML to the digests the policies were made for")
    .option("--all-pods", "annotate every pod spec, whatever its runtimeClassName (as genpolicy does)")
    .option(
      "--annotation <format>",
      "where the policy goes: agent-policy (io.katacontainers.config.agent.policy, Contrast v1.5) or initdata (io.katacontainers.config.hypervisor.cc_init_data, newer runtimes); default: the platform's",
    )
    .action(
      async (paths: string[], opts: import("./commands/policy-generate.js").PolicyGenerateOptions, cmd: Command) => {
        const { policyGenerate } = await import("./commands/policy-generate.js");
        const explicit = (name: string) => cmd.getOptionValueSource(name) === "cli";
        const resolved = {
          ...opts,
          ...(explicit("settings") ? {} : { settings: undefined }),
          ...(explicit("rules") ? {} : { rules: undefined }),
          ...(explicit("layersCache") ? {} : { layersCache: undefined }),
        } as import("./commands/policy-generate.js").PolicyGenerateOptions;
        setStatus(await policyGenerate(context(cmd), paths, resolved));
      },
    );

  // Subcommands inherit exitOverride and configureOutput from their parent when created.
  return program;
}

/** Default file names of options the user did not give are resolved in --workspace-dir. */
function withDefaults<T extends object>(cmd: Command, opts: T): T {
  const explicit = (name: string) => cmd.getOptionValueSource(name) === "cli";
  return {
    ...opts,
    ...(explicit("settings") ? {} : { settings: undefined }),
    ...(explicit("layersCache") ? {} : { layersCache: undefined }),
  };
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
