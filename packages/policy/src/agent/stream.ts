import type { JsonValue } from "@contrast/core";
import type { AgentRequest } from "./requests.js";

export { type AgentRequest, parseRequestStream } from "./requests.js";

/** A request to send: its name (the rule that decides it) and its body. */
export interface StreamRequest {
  readonly name: string;
  readonly input: JsonValue;
}

/**
 * Writes requests in the regorus stream format that `parseRequestStream` reads: one
 * `["ep":"<RequestName>",{json}],` entry per line, a blank line between entries.
 */
export function formatRequestStream(requests: readonly (StreamRequest | AgentRequest)[]): string {
  return requests.map((r) => `["ep":${JSON.stringify(r.name)},${JSON.stringify(r.input)}],\n`).join("\n");
}
