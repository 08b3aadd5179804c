import { readFileSync } from "node:fs";
import {
  IMAGE_METADATA_SCHEMA,
  type ImageMetadataDocument,
  normalizeImageReference,
  serializeImageMetadataDocument,
} from "@contrast/oci";
import { describe, expect, it } from "vitest";
import { FIXTURE_REFERENCES, fixtureImages } from "./fixtures/images.js";

/**
 * The CLI's end-to-end tests (apps/cli/test/policy-honest.test.ts) read the fixture images as an
 * offline image-metadata file; it must say exactly what the fixtures say.
 */
export async function fixtureDocument(): Promise<string> {
  const source = fixtureImages();
  const images: Record<string, ImageMetadataDocument["images"][string]> = {};
  for (const ref of FIXTURE_REFERENCES) {
    const { reference: _, ...rest } = await source.get(ref);
    images[normalizeImageReference(ref)] = rest;
  }
  return serializeImageMetadataDocument({ schema: IMAGE_METADATA_SCHEMA, images });
}

describe("testdata/genpolicy/fixture-images.json", () => {
  it("is the fixture images as an offline image-metadata document", async () => {
    const file = new URL("../../../testdata/genpolicy/fixture-images.json", import.meta.url);
    expect(readFileSync(file, "utf8")).toBe(await fixtureDocument());
  });
});
