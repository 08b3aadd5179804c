import { sha256Hex, toBase64, utf8 } from "@contrast/core";
import type { ImageMetadata } from "./metadata.js";

/** Where the tardev snapshotter of stock Kata keeps layers (its `layer-src-prefix`). */
export const STOCK_LAYER_SRC_PREFIX = "/var/lib/containerd/io.containerd.snapshotter.v1.tardev/layers";

/** The guest directory each layer device is mounted at, named after the layer. */
export const GUEST_LAYERS_DIR = "/run/kata-containers/sandbox/layers/";

export const LAYER_SRC_PREFIX_OPTION = "io.katacontainers.fs-opt.layer-src-prefix=";

/** The policy's stand-in for a layer-src-prefix directory the rules match by regex. */
export const LAYER_SRC_PREFIX_PLACEHOLDER = "$(layer_src_prefix)";

/** One layer as the tardev snapshotter presents it. */
export interface TardevLayer {
  /** SHA-256 (hex) of the layer's OCI chain ID: the snapshot's name, its device's mount point. */
  readonly name: string;
  /** The filesystem options of the layer's device. */
  readonly fsOptions: readonly string[];
  /** The overlay's option that names this layer. */
  readonly overlayOption: string;
}

/** The overlay format of the platform's snapshotter, from the settings (stock Kata by default). */
export interface TardevFormat {
  readonly overlayFstype: string;
  readonly encoding: "plain" | "base64";
  /** A regex of the layer-src-prefix directory, where the policy does not name one literally. */
  readonly prefixRegex?: string;
}

/**
 * The image's layers, bottom first. Each is named after the SHA-256 of its chain ID (OCI image
 * spec); the snapshotter describes it to the shim as "<name>,tar,ro,<fs options>", which
 * Microsoft's snapshotter base64-encodes into the overlay's option.
 */
export function tardevLayers(image: ImageMetadata, format: TardevFormat): TardevLayer[] {
  const out: TardevLayer[] = [];
  let chain = "";
  for (const layer of image.layers) {
    chain = chain === "" ? layer.diffId : `sha256:${sha256Hex(utf8(`${chain} ${layer.diffId}`))}`;
    const name = sha256Hex(utf8(chain));
    const fsOptions = [
      "io.katacontainers.fs-opt.block_device=file",
      "io.katacontainers.fs-opt.is-layer",
      `io.katacontainers.fs-opt.root-hash=${layer.verityHash}`,
    ];
    const info = `${name},tar,ro,${fsOptions.join(",")}`;
    const value = format.encoding === "base64" ? toBase64(utf8(info)) : info;
    out.push({ name, fsOptions, overlayOption: `io.katacontainers.fs-opt.layer=${value}` });
  }
  return out;
}
