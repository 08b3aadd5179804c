import { FileSystemStore, type HistoryStore } from "@contrast/coordinator";
import type { Clock, Logger } from "@contrast/core";
import type { CoordinatorConfig } from "./config.js";
import { ServerError } from "./error.js";

/** The history store the configuration names: the state directory (default) or ConfigMaps. */
export async function openStore(
  config: CoordinatorConfig,
  deps: { readonly clock: Clock; readonly log: Logger },
): Promise<HistoryStore> {
  if (config.store.kind === "fs") {
    return FileSystemStore.open({ stateDir: config.store.stateDir, clock: deps.clock, log: deps.log });
  }
  throw new ServerError("SERVER_CONFIG_INVALID", "store configmap is not wired yet");
}
