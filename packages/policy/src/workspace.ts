import { DEFAULT_RULES } from "./default-rules.js";
import { DEFAULT_SETTINGS } from "./settings/defaults.js";
import { settingsToJson } from "./settings/load.js";

/** The files a fresh workspace gets, by the names `contrast generate` uses. */
export const WORKSPACE_RULES_FILE = "rules.rego";
export const WORKSPACE_SETTINGS_FILE = "settings.json";

/** Writing files is the caller's: `create` must fail if the file exists (exclusive create). */
export interface WorkspaceWriter {
  /** Creates `name` with `content`; returns false when it already exists (never overwrites). */
  createExclusive(name: string, content: string): Promise<boolean>;
}

/**
 * Writes the default rules.rego and settings.json into a workspace unless they exist, as
 * upstream's `generate` does on its first run. Returns the names of the files it created.
 */
export async function writeWorkspaceDefaults(writer: WorkspaceWriter): Promise<string[]> {
  const created: string[] = [];
  if (await writer.createExclusive(WORKSPACE_RULES_FILE, DEFAULT_RULES)) created.push(WORKSPACE_RULES_FILE);
  if (await writer.createExclusive(WORKSPACE_SETTINGS_FILE, settingsToJson(DEFAULT_SETTINGS))) {
    created.push(WORKSPACE_SETTINGS_FILE);
  }
  return created;
}
