import type { CoordinatorConfig } from "./config.js";
import { ServerError } from "./error.js";

export interface RunIo {
  readonly write: (line: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
}

// Wired to @contrast/coordinator and @contrast/atls in the next commit.
export async function runCoordinator(_config: CoordinatorConfig, io: RunIo): Promise<number> {
  io.write(`${JSON.stringify(new ServerError("SERVER_CONFIG_INVALID", "not wired yet").toJSON())}\n`);
  return 1;
}
