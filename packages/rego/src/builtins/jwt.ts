import {
  constants,
  createHmac,
  createPrivateKey,
  createPublicKey,
  type JsonWebKey,
  type KeyObject,
  sign,
  timingSafeEqual,
  verify,
  X509Certificate,
} from "node:crypto";
import { BuiltinError } from "../errors.js";
import { fromJson, RObject, type Value } from "../values.js";
import { toJsonText } from "./json.js";
import { type BuiltinContext, type BuiltinTable, fail, object, str } from "./registry.js";

// io.jwt.*: JWS compact tokens (RFC 7515/7519) as OPA decodes, verifies and signs them, with
// node:crypto doing the signatures. Pure computation: no clock (the `time` constraint or the
// evaluation's nowNs), no randomness except in ECDSA and RSA-PSS signing, which need it.

interface Token {
  readonly header: string;
  readonly payload: string;
  readonly signature: string;
}

/** Go's base64 URL decoding as OPA's base64url.decode uses it (padding optional). */
function b64url(s: string): Buffer {
  const t = s.replace(/=+$/, "");
  const bad = t.search(/[^A-Za-z0-9_-]/);
  if (bad >= 0 || t.length % 4 === 1) {
    fail(`illegal base64 data at input byte ${bad >= 0 ? bad : t.length - 1}`);
  }
  return Buffer.from(t, "base64url");
}

function b64urlEncode(b: Buffer | string): string {
  return Buffer.from(b).toString("base64url");
}

/** Runs a step whose built-in error gets a prefix (OPA wraps the base64 errors so). */
function wrap<T>(prefix: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof BuiltinError) fail(`${prefix}: ${e.message}`);
    throw e;
  }
}

function splitToken(name: string, v: Value): Token {
  if (typeof v !== "string") return fail(`${name}: operand 1 must be string`);
  if (!v.includes(".")) fail(`${name}: encoded JWT had no period separators`);
  const parts = v.split(".");
  if (parts.length !== 3) fail(`${name}: encoded JWT must have 3 sections, found ${parts.length}`);
  return { header: parts[0] as string, payload: parts[1] as string, signature: parts[2] as string };
}

function jsonObject(name: string, text: string, what: string): RObject {
  let v: Value;
  try {
    v = fromJson(JSON.parse(text));
  } catch (e) {
    return fail(`${name}: ${what}invalid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!(v instanceof RObject)) fail(`${name}: ${what}decoded JSON type was not an Object`);
  return v;
}

function decodeHeader(name: string, t: Token): RObject {
  const text = wrap(`${name}: JWT header had invalid encoding`, () => b64url(t.header)).toString("utf8");
  const h = jsonObject(name, text, "bad JWT header: ");
  if (h.has("enc")) fail(`${name}: JWT is a JWE object, which is not supported`);
  return h;
}

function decodeSignature(name: string, t: Token): Buffer {
  return wrap(`${name}: JWT signature had invalid encoding`, () => b64url(t.signature));
}

/** io.jwt.decode: [header, payload, signature as hex]; a nested JWT (cty JWT) is decoded instead. */
function decode(name: string, v: Value): Value {
  const t = splitToken(name, v);
  const header = decodeHeader(name, t);
  const payloadText = wrap(`${name}: JWT payload had invalid encoding`, () => b64url(t.payload)).toString("utf8");
  if (header.get("cty") === "JWT") return decode(name, payloadText.replace(/^["']+|["']+$/g, ""));
  const payload = jsonObject(name, payloadText, "");
  const sig = decodeSignature(name, t).toString("hex");
  return [header, payload, sig];
}

interface VerificationKey {
  readonly key: KeyObject;
  readonly alg: string;
  readonly kid: string;
}

const ALGORITHMS = new Set([
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "HS256",
  "HS384",
  "HS512",
  "EdDSA",
]);

/** The public key(s) of a PEM certificate, a PEM public key, a JWK or a JWK set. */
function keysOf(name: string, text: string): VerificationKey[] {
  const begin = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(text);
  if (begin !== null) {
    const endMarker = `-----END ${begin[1]}-----`;
    const end = text.indexOf(endMarker, begin.index);
    if (end < 0) fail(`${name}: failed to extract a Key from the PEM certificate`);
    const block = text.slice(begin.index, end + endMarker.length);
    if (text.slice(end + endMarker.length).replace(/^\r?\n/, "") !== "") {
      fail(`${name}: extra data after a PEM certificate block`);
    }
    if (begin[1] === "CERTIFICATE") {
      try {
        return [{ key: new X509Certificate(block).publicKey, alg: "", kid: "" }];
      } catch (e) {
        return fail(`${name}: failed to parse a PEM certificate: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    if (begin[1] === "PUBLIC KEY") {
      try {
        return [{ key: createPublicKey(block), alg: "", kid: "" }];
      } catch (e) {
        return fail(`${name}: failed to parse a PEM public key: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return fail(`${name}: failed to extract a Key from the PEM certificate`);
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    const list = (
      parsed !== null && typeof parsed === "object" && Array.isArray((parsed as { keys?: unknown }).keys)
        ? (parsed as { keys: unknown[] }).keys
        : [parsed]
    ) as Record<string, unknown>[];
    const out: VerificationKey[] = [];
    for (const jwk of list) {
      const alg = typeof jwk.alg === "string" ? jwk.alg : "";
      if (alg !== "" && !ALGORITHMS.has(alg)) continue;
      const key =
        jwk.kty === "oct" ? createSecretFromJwk(jwk) : createPublicKey({ key: jwk as JsonWebKey, format: "jwk" });
      out.push({ key, alg, kid: typeof jwk.kid === "string" ? jwk.kid : "" });
    }
    return out;
  } catch (e) {
    if (e instanceof BuiltinError) throw e;
    return fail(`${name}: failed to parse a JWK key (set): ${e instanceof Error ? e.message : String(e)}`);
  }
}

function createSecretFromJwk(jwk: Record<string, unknown>): KeyObject {
  // A symmetric JWK: its `k` is the secret; HMAC verification reads it back as bytes.
  return createPrivateKey({ key: { kty: "oct", k: String(jwk.k) } as never, format: "jwk" });
}

const HASHES: Record<string, string> = { "256": "sha256", "384": "sha384", "512": "sha512" };

/** Verifies a JWS signature with a key and an algorithm; false when they do not fit. */
function verifyWith(key: KeyObject | Buffer, alg: string, data: Buffer, sig: Buffer): boolean {
  const hash = HASHES[alg.slice(2)];
  try {
    if (alg.startsWith("HS") && hash !== undefined) {
      const secret = Buffer.isBuffer(key) ? key : key.type === "secret" ? key.export() : undefined;
      if (secret === undefined) return false;
      const mac = createHmac(hash, secret).update(data).digest();
      return mac.length === sig.length && timingSafeEqual(mac, sig);
    }
    if (Buffer.isBuffer(key) || key.type !== "public") return false;
    const type = key.asymmetricKeyType;
    if ((alg.startsWith("RS") || alg.startsWith("PS")) && hash !== undefined) {
      if (type !== "rsa" && type !== "rsa-pss") return false;
      const pss = alg.startsWith("PS");
      return verify(
        hash,
        data,
        pss
          ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }
          : { key, padding: constants.RSA_PKCS1_PADDING },
        sig,
      );
    }
    if (alg.startsWith("ES") && hash !== undefined) {
      if (type !== "ec") return false;
      return verify(hash, data, { key, dsaEncoding: "ieee-p1363" }, sig);
    }
    if (alg === "EdDSA") return type === "ed25519" && verify(null, data, key, sig);
  } catch {
    // A malformed signature or key for this algorithm does not verify.
  }
  return false;
}

/** io.jwt.verify_<alg>: with any of the keys (the one whose kid matches first). */
function verifyToken(name: string, alg: string, a: readonly Value[]): boolean {
  const t = splitToken(name, a[0] as Value);
  const keyText = str(name, a, 1);
  const data = Buffer.from(`${t.header}.${t.payload}`);
  if (alg.startsWith("HS")) return verifyWith(Buffer.from(keyText), alg, data, decodeSignature(name, t));
  const keys = keysOf(name, keyText);
  const sig = decodeSignature(name, t);
  const header = decodeHeader(name, t);
  const kid = header.get("kid");
  const tokenAlg = header.get("alg");
  if (typeof kid === "string" && kid !== "") {
    const k = keys.find((x) => x.kid === kid);
    if (k !== undefined) return verifyWith(k.key, alg, data, sig);
  }
  return keys.some((k) => (k.alg === "" || k.alg === tokenAlg) && verifyWith(k.key, alg, data, sig));
}

const UNVERIFIED: Value = [false, new RObject(), new RObject()];

/** io.jwt.decode_verify: [valid, header, payload] under the constraints (keys, alg, iss, aud, time). */
function decodeVerify(a: readonly Value[], ctx: BuiltinContext): Value {
  const name = "io.jwt.decode_verify";
  const c = object(name, a, 1);
  let keys: VerificationKey[] | undefined;
  let secret = "";
  let alg = "";
  let iss = "";
  let aud = "";
  let time: number | undefined;
  for (const [k, v] of c.entries()) {
    const s = (what: string) => {
      if (typeof v !== "string") fail(`${name}: ${what} constraint: must be a string`);
      return v;
    };
    if (k === "cert") keys = keysOf(name, s("cert"));
    else if (k === "secret") secret = s("secret");
    else if (k === "alg") alg = s("alg");
    else if (k === "iss") iss = s("iss");
    else if (k === "aud") aud = s("aud");
    else if (k === "time") time = constraintTime(name, v);
    else fail(`${name}: unknown token validation constraint: ${typeof k === "string" ? k : toJsonText(k)}`);
  }
  if (time === undefined) {
    if (ctx.nowNs === undefined)
      fail(`${name}: no time constraint and no clock given to the evaluation (option nowNs)`);
    time = constraintTime(name, ctx.nowNs);
  }
  if (keys !== undefined && secret !== "") fail(`${name}: duplicate key constraints`);
  if (keys === undefined && secret === "") fail(`${name}: no key constraint`);

  let token: Value = a[0] as Value;
  let header: RObject;
  let payloadText: string;
  for (;;) {
    const t = splitToken(name, token);
    header = decodeHeader(name, t);
    const h = tokenHeader(name, header);
    if (h === undefined) return UNVERIFIED;
    if (alg !== "" && alg !== h.alg) return UNVERIFIED;
    const sig = decodeSignature(name, t);
    const data = Buffer.from(`${t.header}.${t.payload}`);
    let ok: boolean;
    if (keys !== undefined) {
      const byKid = h.kid === "" ? undefined : keys.find((k) => k.kid === h.kid);
      ok =
        byKid !== undefined
          ? verifyWith(byKid.key, h.alg, data, sig)
          : keys.some((k) => (k.alg === "" || k.alg === h.alg) && verifyWith(k.key, h.alg, data, sig));
    } else ok = verifyWith(Buffer.from(secret), h.alg, data, sig);
    if (!ok) return UNVERIFIED;
    payloadText = wrap(`${name}: JWT payload had invalid encoding`, () => b64url(t.payload)).toString("utf8");
    if (h.cty.toLowerCase() === "jwt") {
      token = payloadText;
      continue;
    }
    break;
  }
  const payload = jsonObject(name, payloadText, "");
  if (iss !== "" && payload.get("iss") !== iss) return UNVERIFIED;
  const tokenAud = payload.get("aud");
  if (tokenAud !== undefined) {
    const fits =
      typeof tokenAud === "string"
        ? tokenAud === aud
        : Array.isArray(tokenAud) && (tokenAud as readonly Value[]).some((x) => x === aud);
    if (!fits) return UNVERIFIED;
  } else if (aud !== "") return UNVERIFIED;
  const seconds = time / 1e9;
  const exp = payload.get("exp");
  if (exp !== undefined) {
    if (typeof exp !== "number") fail(`${name}: exp value must be a number`);
    if (seconds >= exp) return UNVERIFIED;
  }
  const nbf = payload.get("nbf");
  if (nbf !== undefined) {
    if (typeof nbf !== "number") fail(`${name}: nbf value must be a number`);
    if (seconds < nbf) return UNVERIFIED;
  }
  return [true, header, payload];
}

function constraintTime(name: string, v: Value): number {
  if (typeof v !== "number") fail(`${name}: token time constraint: must be a number`);
  if (v < 0) fail(`${name}: token time constraint: must not be negative`);
  return v;
}

/** The header fields OPA checks; undefined when the token is not acceptable (no alg, unknown crit). */
function tokenHeader(name: string, h: RObject): { alg: string; kid: string; cty: string } | undefined {
  const out = { alg: "", kid: "", cty: "" };
  const unknown: string[] = [];
  let crit: Set<string> | undefined;
  for (const [k, v] of h.entries()) {
    if (k === "alg" || k === "kid" || k === "typ" || k === "cty") {
      if (typeof v !== "string") fail(`${name}: ${k}: must be a string`);
      if (k !== "typ") out[k] = v;
    } else if (k === "crit") {
      if (!Array.isArray(v)) fail(`${name}: crit: must be a list`);
      crit = new Set((v as readonly Value[]).filter((x): x is string => typeof x === "string"));
      if (crit.size === 0) fail(`${name}: crit: must be a nonempty list`);
    } else if (typeof k === "string") unknown.push(k);
  }
  if (out.alg === "") return undefined;
  if (crit !== undefined && unknown.some((u) => crit?.has(u))) return undefined;
  return out;
}

/** Signs `header.payload` with the first key of a JWK (set), as io.jwt.encode_sign* do. */
function encodeSign(name: string, headerText: string, payloadText: string, jwkText: string): string {
  let jwk: Record<string, unknown>;
  try {
    const parsed = JSON.parse(jwkText) as Record<string, unknown>;
    const list = Array.isArray(parsed.keys) ? (parsed.keys as Record<string, unknown>[]) : [parsed];
    if (list.length === 0) fail(`${name}: no keys found in JWK set`);
    jwk = list[0] as Record<string, unknown>;
  } catch (e) {
    if (e instanceof BuiltinError) throw e;
    return fail(`${name}: failed to parse the JWK: ${e instanceof Error ? e.message : String(e)}`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(headerText) as Record<string, unknown>;
  } catch {
    // OPA's JWS library looks the key up in the text: only a broken object is a JSON error.
    const t = headerText.trim();
    if (t !== "" && !t.startsWith("{")) fail(`${name}: missing or invalid 'alg' header: jwsbb: header "alg" not found`);
    return fail(
      `${name}: missing or invalid 'alg' header: cannot parse JSON${t === "" ? ": cannot parse empty string" : ""}`,
    );
  }
  if (header === null || typeof header !== "object" || header.alg === undefined) {
    fail(`${name}: missing or invalid 'alg' header: jwsbb: header "alg" not found`);
  }
  const alg = String(header.alg);
  if (!ALGORITHMS.has(alg)) fail(`${name}: unknown JWS algorithm: ${alg}`);
  if (header.typ === "JWT") {
    try {
      JSON.parse(payloadText);
    } catch {
      fail(`${name}: type is JWT but payload is not JSON`);
    }
  }
  const input = `${b64urlEncode(headerText)}.${b64urlEncode(payloadText)}`;
  const data = Buffer.from(input);
  const hash = HASHES[alg.slice(2)];
  let sig: Buffer;
  try {
    if (alg.startsWith("HS")) {
      sig = createHmac(hash as string, Buffer.from(String(jwk.k ?? ""), "base64url"))
        .update(data)
        .digest();
    } else {
      const key = createPrivateKey({ key: jwk as never, format: "jwk" });
      if (alg === "EdDSA") sig = sign(null, data, key);
      else if (alg.startsWith("ES")) sig = sign(hash as string, data, { key, dsaEncoding: "ieee-p1363" });
      else if (alg.startsWith("PS")) {
        sig = sign(hash as string, data, {
          key,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
        });
      } else sig = sign(hash as string, data, { key, padding: constants.RSA_PKCS1_PADDING });
    }
  } catch (e) {
    return fail(`${name}: failed to sign the token: ${e instanceof Error ? e.message : String(e)}`);
  }
  return `${input}.${b64urlEncode(sig)}`;
}

function verifier(alg: string) {
  const name = `io.jwt.verify_${alg.toLowerCase()}`;
  return { [name]: { arity: 2, fn: (a: readonly Value[]) => verifyToken(name, alg, a) } };
}

/** JSON text of an operand: a string is taken as it is, other values are marshalled. */
function jsonOperand(v: Value): string {
  return typeof v === "string" ? v : toJsonText(v);
}

export const JWT_BUILTINS: BuiltinTable = {
  "io.jwt.decode": { arity: 1, fn: (a) => decode("io.jwt.decode", a[0] as Value) },
  "io.jwt.decode_verify": { arity: 2, fn: decodeVerify },
  ...verifier("RS256"),
  ...verifier("RS384"),
  ...verifier("RS512"),
  ...verifier("PS256"),
  ...verifier("PS384"),
  ...verifier("PS512"),
  ...verifier("ES256"),
  ...verifier("ES384"),
  ...verifier("ES512"),
  ...verifier("HS256"),
  ...verifier("HS384"),
  ...verifier("HS512"),
  "io.jwt.verify_eddsa": { arity: 2, fn: (a) => verifyToken("io.jwt.verify_eddsa", "EdDSA", a) },
  "io.jwt.encode_sign": {
    arity: 3,
    fn: (a) =>
      encodeSign(
        "io.jwt.encode_sign",
        toJsonText(object("io.jwt.encode_sign", a, 0)),
        jsonOperand(a[1] as Value),
        toJsonText(object("io.jwt.encode_sign", a, 2)),
      ),
  },
  "io.jwt.encode_sign_raw": {
    arity: 3,
    fn: (a) =>
      encodeSign(
        "io.jwt.encode_sign_raw",
        str("io.jwt.encode_sign_raw", a, 0),
        str("io.jwt.encode_sign_raw", a, 1),
        str("io.jwt.encode_sign_raw", a, 2),
      ),
  },
};
