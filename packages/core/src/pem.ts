import { fromBase64, toBase64 } from "./bytes.js";
import { ContrastError } from "./error.js";

export interface PemBlock {
  /** The label between BEGIN and the dashes, e.g. "CERTIFICATE" or "EC PRIVATE KEY". */
  readonly type: string;
  readonly der: Uint8Array;
}

const BEGIN = /^-----BEGIN ([\x21-\x2c\x2e-\x7e](?:[- ]?[\x21-\x2c\x2e-\x7e])*)?-----$/;
const END = /^-----END (.*)-----$/;

// Labels already checked: a program writes the same few labels over and over (a mesh certificate
// per workload start).
const checkedLabels = new Set<string>();

/** Writes RFC 7468 armour with 64-character lines and a trailing newline. */
export function encodePem(type: string, der: Uint8Array): string {
  if (!checkedLabels.has(type)) {
    if (!BEGIN.test(`-----BEGIN ${type}-----`)) {
      throw new ContrastError("PEM_INVALID_LABEL", `invalid PEM label ${JSON.stringify(type)}`, {
        kind: "internal",
        hint: "PEM labels are printable ASCII words separated by single spaces or hyphens.",
      });
    }
    if (checkedLabels.size < 64) checkedLabels.add(type);
  }
  const b64 = toBase64(der);
  let body = "";
  for (let i = 0; i < b64.length; i += 64) body += `${b64.slice(i, i + 64)}\n`;
  return `-----BEGIN ${type}-----\n${body}-----END ${type}-----\n`;
}

/**
 * Reads every PEM block in `text`. Text outside blocks is ignored (RFC 7468 §2), but a block that
 * is opened must be well formed: matching labels, valid base64, no RFC 1421 headers (those mark
 * legacy encrypted keys, which we cannot use).
 */
export function decodePem(text: string): PemBlock[] {
  const lines = text.split(/\r?\n/);
  const blocks: PemBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const begin = BEGIN.exec((lines[i] ?? "").trim());
    if (!begin) continue;
    const type = begin[1] ?? "";
    const body: string[] = [];
    let closed = false;
    for (i++; i < lines.length; i++) {
      const line = (lines[i] ?? "").trim();
      const end = END.exec(line);
      if (end) {
        if (end[1] !== type) {
          throw new ContrastError(
            "PEM_MALFORMED",
            `PEM block "BEGIN ${type}" is closed by "END ${end[1]}" on line ${i + 1}`,
            { hint: "The file is damaged or two files were pasted together; re-export it." },
          );
        }
        closed = true;
        break;
      }
      if (line.includes(":")) {
        throw new ContrastError(
          "PEM_ENCRYPTED",
          `PEM block "${type}" has headers (line ${i + 1}); encrypted PEM is not supported`,
          {
            hint: "Decrypt the key first, for example with `openssl pkey -in key.pem -out plain.pem`.",
          },
        );
      }
      body.push(line);
    }
    if (!closed) {
      throw new ContrastError("PEM_MALFORMED", `PEM block "${type}" has no END line`, {
        hint: "The file is truncated; re-export it.",
      });
    }
    let der: Uint8Array;
    try {
      der = fromBase64(body.join(""));
    } catch (cause) {
      throw new ContrastError("PEM_MALFORMED", `PEM block "${type}" has invalid base64`, {
        cause,
        hint: "The file is damaged; re-export it.",
      });
    }
    blocks.push({ type, der });
  }
  return blocks;
}

/**
 * Reads exactly one PEM block of one of the accepted types. Several blocks or a different type is
 * an error, so a certificate passed where a key is expected is caught with a precise message.
 */
export function decodePemBlock(text: string, ...acceptedTypes: readonly string[]): PemBlock {
  const blocks = decodePem(text);
  if (blocks.length === 0) {
    throw new ContrastError("PEM_NOT_FOUND", "no PEM block found", {
      hint: `Expected a file that contains "-----BEGIN ${acceptedTypes[0] ?? "..."}-----".`,
    });
  }
  if (blocks.length > 1) {
    throw new ContrastError("PEM_MULTIPLE_BLOCKS", `expected one PEM block, found ${blocks.length}`, {
      hint: "Put each key or certificate in a file of its own.",
    });
  }
  const block = blocks[0] as PemBlock;
  if (acceptedTypes.length > 0 && !acceptedTypes.includes(block.type)) {
    throw new ContrastError(
      "PEM_WRONG_TYPE",
      `expected PEM type ${acceptedTypes.map((t) => `"${t}"`).join(" or ")}, got "${block.type}"`,
      {
        hint: "Check that the right file was passed.",
        details: { expected: acceptedTypes, actual: block.type },
      },
    );
  }
  return block;
}
