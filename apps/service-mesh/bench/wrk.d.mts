// Types of wrk.mjs for the test that reads its parser.
export interface WrkReport {
  readonly requests: number;
  readonly seconds: number;
  readonly requestsPerS: number;
  readonly bytesPerS: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly socketErrors: number;
  readonly non2xx: number;
}
export declare function parseWrk(out: string): WrkReport;
export declare function runWrk(
  url: string,
  options: { seconds: number; connections: number; close?: boolean; timeoutS?: number },
): Promise<WrkReport & { readonly raw: string }>;
