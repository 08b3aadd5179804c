// The demo's images: each app's layer alone (no Node runtime layer; the local runtime binds the
// host's Node), in an OCI layout the runtime unpacks and the policy generator reads.

/** One app to build: its image name (package.json `"image".name`) and package directory. */
export interface DemoApp {
  readonly name: string;
  readonly packageDir: string;
}

export interface BuildDemoImagesOptions {
  readonly apps: readonly DemoApp[];
  /** The OCI layout directory to write (created; existing images of other tags are kept). */
  readonly layoutDir: string;
  /** The tag of every image, e.g. the CLI's version. */
  readonly version: string;
  /** Where the image-metadata file goes; default `<layoutDir>/image-metadata.json`. */
  readonly metadataFile?: string;
}

export interface DemoImage {
  readonly name: string;
  /** `localhost/contrast-demo/<name>:<version>@sha256:<digest>`. */
  readonly reference: string;
  /** The manifest digest, "sha256:<hex>". */
  readonly digest: string;
}

export interface DemoImages {
  readonly images: readonly DemoImage[];
  /** The `--image-metadata` file (exportImageMetadata) describing every image. */
  readonly metadataFile: string;
}

export const DEMO_IMAGE_REPOSITORY = "localhost/contrast-demo";

export async function buildDemoImages(options: BuildDemoImagesOptions): Promise<DemoImages> {
  void options;
  throw new Error("buildDemoImages: not implemented yet");
}
