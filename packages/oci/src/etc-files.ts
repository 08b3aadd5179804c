import { ImageError } from "./errors.js";
import { headerPath, type TarMember } from "./tar.js";

/** genpolicy's marker for "this layer deletes the file" in its cache and layer records. */
export const WHITEOUT_MARKER = "WHITEOUT";

const PASSWD = "etc/passwd";
const GROUP = "etc/group";
const PASSWD_WHITEOUT = "etc/.wh.passwd";
const GROUP_WHITEOUT = "etc/.wh.group";

/**
 * Reads /etc/passwd and /etc/group out of one layer as genpolicy's registry.rs does, including
 * its quirks, because the results land in its cache format and in the policy:
 * - it matches the *header* path exactly (`etc/passwd`; `./etc/passwd` or a GNU long name does
 *   not count);
 * - a whiteout (`etc/.wh.passwd`) sets the value to the marker `WHITEOUT`;
 * - file contents are appended to what was found before in the same layer;
 * - it stops looking once it has seen both files (or their whiteouts).
 * Values are genpolicy's strings: "" means "not in this layer".
 */
export class EtcFilesScanner {
  passwd = "";
  group = "";
  private foundPasswd = false;
  private foundGroup = false;

  /** Both files (or their whiteouts) seen: genpolicy stops its walk here. */
  get complete(): boolean {
    return this.foundPasswd && this.foundGroup;
  }

  /** Returns true when the member's data is needed (then call `onData`). */
  onMember(m: TarMember): boolean {
    if (this.foundPasswd && this.foundGroup) return false;
    const path = Buffer.from(headerPath(m.header)).toString("latin1");
    if (path === PASSWD || path === GROUP) return true;
    if (path === PASSWD_WHITEOUT) {
      this.passwd = WHITEOUT_MARKER;
      this.foundPasswd = true;
    } else if (path === GROUP_WHITEOUT) {
      this.group = WHITEOUT_MARKER;
      this.foundGroup = true;
    }
    return false;
  }

  onData(m: TarMember, data: Uint8Array): void {
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(data);
    } catch (cause) {
      throw new ImageError("LAYER_ETC_FILE_INVALID", "a layer's /etc/passwd or /etc/group is not valid UTF-8", {
        cause,
        hint: "genpolicy cannot read such a file either; fix the file in the image.",
      });
    }
    if (Buffer.from(headerPath(m.header)).toString("latin1") === PASSWD) {
      this.passwd += text;
      this.foundPasswd = true;
    } else {
      this.group += text;
      this.foundGroup = true;
    }
  }
}

/**
 * An /etc file as one layer leaves it: undefined when the layer does not touch it, null when the
 * layer deletes it, else its contents.
 */
export type LayerEtcFile = string | null | undefined;

/** genpolicy's string ("" / "WHITEOUT" / contents) as a LayerEtcFile. */
export function fromGenpolicyEtcValue(value: string): LayerEtcFile {
  if (value === "") return undefined;
  if (value === WHITEOUT_MARKER) return null;
  return value;
}

export function toGenpolicyEtcValue(value: LayerEtcFile): string {
  if (value === undefined) return "";
  if (value === null) return WHITEOUT_MARKER;
  return value;
}

/**
 * The image's /etc/passwd and /etc/group after all layers, as genpolicy merges them: the top-most
 * layer that has the file wins; a whiteout removes what lower layers had.
 */
export function mergeEtcFiles(layers: readonly { passwd?: LayerEtcFile; group?: LayerEtcFile }[]): {
  passwd?: string;
  group?: string;
} {
  let passwd: string | undefined;
  let group: string | undefined;
  for (const l of layers) {
    if (l.passwd === null) passwd = undefined;
    else if (l.passwd !== undefined) passwd = l.passwd;
    if (l.group === null) group = undefined;
    else if (l.group !== undefined) group = l.group;
  }
  return { ...(passwd === undefined ? {} : { passwd }), ...(group === undefined ? {} : { group }) };
}
