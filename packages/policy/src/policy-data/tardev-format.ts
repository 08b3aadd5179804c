import type { TardevFormat } from "@contrast/oci";
import type { Settings } from "../settings/types.js";

/** The overlay format of the platform's snapshotter, from the settings (stock Kata by default). */
export function tardevFormat(settings: Settings): TardevFormat {
  const t = settings.common.tardev;
  return {
    overlayFstype: t?.overlay_fstype ?? "tar-overlay",
    encoding: t?.layer_option_encoding ?? "plain",
    ...(t?.layer_src_prefix === undefined ? {} : { prefixRegex: t.layer_src_prefix }),
  };
}
