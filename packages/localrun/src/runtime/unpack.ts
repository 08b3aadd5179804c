import type { Host } from "./host.js";

export interface UnpackImageOptions {
  readonly host?: Host;
}

/**
 * Unpacks an image of an OCI layout into `dir` (layers in order, whiteouts applied) unless `dir`
 * already holds that image, and returns `dir`.
 */
export async function unpackImage(
  layoutDir: string,
  reference: string,
  dir: string,
  options: UnpackImageOptions = {},
): Promise<string> {
  void layoutDir;
  void reference;
  void options;
  throw new Error(`unpackImage(${dir}): being written (D1)`);
}
