import { ContrastError } from "@contrast/core";
import { cliError } from "./errors.js";

export interface CoordinatorAddress {
  readonly host: string;
  readonly port: number;
  /** The gRPC target: `host:port`, with brackets around an IPv6 literal. */
  readonly target: string;
}

/**
 * The --coordinator value: `host:port` as upstream takes it (Go's net.SplitHostPort), so an IPv6
 * literal needs brackets (`[::1]:1313`). The port is required: upstream has no default either, and
 * a user API port guessed wrong would only time out after minutes of retries.
 */
export function parseCoordinatorAddress(value: string | undefined): CoordinatorAddress {
  if (value === undefined || value.trim() === "") {
    // As commander words a missing required option.
    throw new ContrastError("CLI_USAGE", "required option '-c, --coordinator <host:port>' not specified", {
      hint: "Pass the Coordinator's user API as -c host:port (the LoadBalancer IP and port 1313); see `contrast set --help`.",
    });
  }
  const v = value.trim();
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(v);
  const plain = /^([^:[\]\s/]+):(\d+)$/.exec(v);
  const m = bracketed ?? plain;
  const port = m === null ? Number.NaN : Number(m[2]);
  if (m === null || !Number.isInteger(port) || port < 1 || port > 65535 || (m[2] as string).length > 5) {
    throw cliError("CLI_COORDINATOR_ADDRESS_INVALID", `--coordinator ${JSON.stringify(value)} is not host:port`, {
      details: { value },
    });
  }
  const host = m[1] as string;
  if (bracketed === null && host.includes(":")) {
    throw cliError(
      "CLI_COORDINATOR_ADDRESS_INVALID",
      `--coordinator ${JSON.stringify(value)}: put an IPv6 address in brackets`,
      {
        hint: "Write IPv6 addresses as [address]:port, e.g. [2001:db8::7]:1313.",
        details: { value },
      },
    );
  }
  return { host, port, target: bracketed === null ? `${host}:${port}` : `[${host}]:${port}` };
}
