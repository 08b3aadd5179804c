import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { parseWrk, runWrk } from "../bench/wrk.mjs";

const REPORT = `Running 5s test @ https://127.0.0.1:41234/small
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.08ms    1.90ms  27.43ms   86.12%
    Req/Sec    12.81k     1.02k   14.20k    72.00%
  Latency Distribution
     50%    3.66ms
     75%    4.50ms
     90%    5.97ms
     99%  950.00us
  64049 requests in 5.00s, 8.73MB read
  Socket errors: connect 0, read 3, write 1, timeout 2
  Non-2xx or 3xx responses: 7
Requests/sec:  12809.80
Transfer/sec:      1.75MB
`;

describe("the service-mesh benchmark's wrk reader", () => {
  it("reads requests/s, bytes/s (binary units), percentiles in ms and the errors", () => {
    expect(parseWrk(REPORT)).toEqual({
      requests: 64049,
      seconds: 5,
      requestsPerS: 12809.8,
      bytesPerS: 1.75 * 1024 * 1024,
      p50Ms: 3.66,
      p99Ms: 0.95,
      socketErrors: 6,
      non2xx: 7,
    });
  });

  it("refuses a report without the latency distribution or the totals", () => {
    expect(() => parseWrk(REPORT.replace(/ {2}Latency Distribution[\s\S]*?(?= {2}64049)/, ""))).toThrow(/--latency/);
    expect(() => parseWrk(REPORT.replace(/Requests\/sec.*\n/, ""))).toThrow(/cannot read/);
    expect(() => parseWrk(REPORT.replace("950.00us", "950.00parsecs"))).toThrow(/latency/);
    expect(() => parseWrk("")).toThrow();
  });

  it("reads the real wrk's report against a local server", async () => {
    const body = "y".repeat(64);
    const server = createServer((_, res) => res.end(body));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const { port } = server.address() as AddressInfo;
      const w = await runWrk(`http://127.0.0.1:${port}/`, { seconds: 1, connections: 2 });
      expect(w.requests).toBeGreaterThan(0);
      expect(w.requestsPerS).toBeGreaterThan(0);
      expect(w.p99Ms).toBeGreaterThanOrEqual(w.p50Ms);
      expect(w.socketErrors + w.non2xx).toBe(0);
      // Each response carries at least the body.
      expect((w.bytesPerS * w.seconds) / w.requests).toBeGreaterThan(body.length);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
