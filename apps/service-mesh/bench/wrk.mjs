// Runs wrk and reads its report.
import { execFile } from "node:child_process";

const LATENCY_UNITS = { us: 0.001, ms: 1, s: 1000, m: 60_000 };
// Microseconds are divided rather than multiplied by 0.001, so 950us reads as exactly 0.95.
const toMs = (n, unit) => (unit === "us" ? n / 1000 : n * LATENCY_UNITS[unit]);
// wrk prints sizes in binary units (format_binary: 1024 steps).
const SIZE_UNITS = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

function latencyMs(text) {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (!m) throw new Error(`cannot read wrk latency "${text}"`);
  return toMs(Number(m[1]), m[2]);
}

function bytes(text) {
  const m = /^([\d.]+)(B|KB|MB|GB|TB)$/.exec(text);
  if (!m) throw new Error(`cannot read wrk size "${text}"`);
  return Number(m[1]) * SIZE_UNITS[m[2]];
}

/**
 * Reads wrk's report (run with `--latency`): requests/s, bytes/s, latency percentiles in ms,
 * socket errors and non-2xx responses. Throws when a required line is missing.
 */
export function parseWrk(out) {
  const rps = /^Requests\/sec:\s+([\d.]+)\s*$/m.exec(out);
  const transfer = /^Transfer\/sec:\s+(\S+)\s*$/m.exec(out);
  const total = /^\s*(\d+) requests in ([\d.]+)(us|ms|s|m), (\S+) read\s*$/m.exec(out);
  if (!rps || !transfer || !total) throw new Error(`cannot read wrk output:\n${out}`);
  const percentiles = {};
  const dist = out.split("Latency Distribution")[1] ?? "";
  for (const m of dist.matchAll(/^\s+(\d+(?:\.\d+)?)%\s+(\S+)\s*$/gm)) percentiles[m[1]] = latencyMs(m[2]);
  if (percentiles["99"] === undefined) throw new Error(`wrk output has no latency distribution (--latency):\n${out}`);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const errors = socket ? socket.slice(1).reduce((a, n) => a + Number(n), 0) : 0;
  return {
    requests: Number(total[1]),
    seconds: toMs(Number(total[2]), total[3]) / 1000,
    requestsPerS: Number(rps[1]),
    bytesPerS: bytes(transfer[1]),
    p50Ms: percentiles["50"],
    p99Ms: percentiles["99"],
    socketErrors: errors,
    non2xx: non2xx ? Number(non2xx[1]) : 0,
  };
}

/** Runs wrk against `url` for `seconds` with `connections` and one thread. */
export function runWrk(url, { seconds, connections, close = false, timeoutS = 10 }) {
  const args = ["-t", "1", "-c", String(connections), "-d", `${seconds}s`, "--timeout", `${timeoutS}s`, "--latency"];
  if (close) args.push("-H", "Connection: close");
  args.push(url);
  return new Promise((resolve, reject) => {
    execFile("wrk", args, { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`wrk ${args.join(" ")} failed: ${err.message}\n${stderr}`));
      try {
        resolve({ ...parseWrk(stdout), raw: stdout });
      } catch (e) {
        reject(e);
      }
    });
  });
}
