import { gunzipSingleMember as gunzipOneMember, ImageError } from "@contrast/oci";
import { PolicyError } from "../errors.js";

export { gzipDeterministic } from "@contrast/oci";

/** The largest decompressed initdata document we read, unless the caller says otherwise. */
export const DEFAULT_MAX_INITDATA_BYTES = 16 * 1024 * 1024;

/**
 * The bytes of the annotation's gzip stream, which must hold exactly one member and nothing
 * after it: the Kata shim (Go's gzip reader) reads every member of a concatenation and the
 * runtime-rs helper only the first, so anything more would mean different documents to
 * different readers. oci's reader decides; its failures get the initdata codes and hint.
 */
export function gunzipSingleMember(gz: Uint8Array, maxBytes = DEFAULT_MAX_INITDATA_BYTES): Uint8Array {
  try {
    return gunzipOneMember(gz, maxBytes);
  } catch (e) {
    if (!(e instanceof ImageError)) throw e;
    if (e.code === "GZIP_TOO_LARGE") {
      throw new PolicyError("POLICY_INITDATA_TOO_LARGE", `initdata is larger than ${maxBytes} bytes when unpacked`, {
        cause: e,
        hint: "An initdata document holds a policy and a few config files; this one is too large to be one.",
        details: { maxBytes },
      });
    }
    throw new PolicyError("POLICY_INITDATA_ENCODING", e.message, {
      cause: e,
      hint: "The initdata annotation is base64 of one gzip member holding the TOML document.",
    });
  }
}
