import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/** Every YAML file (`.yml`, `.yaml`, and Kata's `.yaml.in` templates) below `dir`, sorted, recursively. */
export function yamlFilesUnder(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((entry) => {
      const path = join(dir, entry);
      return statSync(path).isDirectory() ? yamlFilesUnder(path) : /\.ya?ml(\.in)?$/.test(entry) ? [path] : [];
    });
}
