import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { encodePem } from "@contrast/core";

export const TESTDATA = join(dirname(fileURLToPath(import.meta.url)), "../../../testdata");

/** Writes DER as a PEM file of `type` into `dir` and returns its path, for openssl. */
export function pemFile(dir: string, name: string, type: string, der: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, encodePem(type, der));
  return path;
}
