import { ContrastError, type JsonValue, parseJson } from "@contrast/core";
import { RegoError } from "@contrast/rego";

/** One agent request of a recorded stream: the request's name and its JSON body. */
export interface AgentRequest {
  /** E.g. "CreateContainerRequest"; the rule `data.agent_policy.<name>` decides it. */
  readonly name: string;
  readonly input: JsonValue;
  /** Line in the stream, from 1. */
  readonly line: number;
}

const ENTRY = /^\[\s*"ep"\s*:\s*"([A-Za-z_][A-Za-z0-9_]*)"\s*,([\s\S]*)\]\s*,?$/;

/**
 * Parses a regorus-style request stream: one `["ep":"<RequestName>",{json}],` entry per line,
 * blank lines between entries.
 */
export function parseRequestStream(text: string, source = "requests"): AgentRequest[] {
  const out: AgentRequest[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === "") continue;
    const m = ENTRY.exec(line);
    if (m === null) {
      throw new RegoError("REGO_INVALID_INPUT", `${source}:${i + 1}: not a request entry`, undefined, {
        hint: 'Each line must look like ["ep":"CreateContainerRequest",{...}],',
      });
    }
    let input: JsonValue;
    try {
      input = parseJson(m[2] as string, { source: `${source}:${i + 1}` });
    } catch (e) {
      if (e instanceof ContrastError) {
        throw new RegoError("REGO_INVALID_INPUT", `${source}:${i + 1}: ${e.message}`, undefined, { cause: e });
      }
      throw e;
    }
    out.push({ name: m[1] as string, input, line: i + 1 });
  }
  return out;
}
