import { policyProfile } from "./profiles/registry.js";
import type { PolicyProfile } from "./profiles/types.js";
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
 * Writes the platform profile's rules.rego and settings.json into a workspace unless they exist,
 * as upstream's `generate` does on its first run with the platform's embedded files. Returns the
 * names of the files it created.
 */
export async function writeWorkspaceDefaults(
  writer: WorkspaceWriter,
  profile: PolicyProfile = policyProfile(),
): Promise<string[]> {
  const created: string[] = [];
  if (await writer.createExclusive(WORKSPACE_RULES_FILE, profile.rules)) created.push(WORKSPACE_RULES_FILE);
  if (await writer.createExclusive(WORKSPACE_SETTINGS_FILE, settingsToJson(profile.settings))) {
    created.push(WORKSPACE_SETTINGS_FILE);
  }
  return created;
}
