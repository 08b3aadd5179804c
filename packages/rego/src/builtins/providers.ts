import { createHash, createHmac } from "node:crypto";
import { formatValue } from "../format.js";
import { ObjectBuilder, RObject, RSet, type Value } from "../values.js";
import { toJsonText } from "./json.js";
import { checkHttpRequest } from "./refused.js";
import { type BuiltinTable, failOperand, failType, object } from "./registry.js";
import { requestUrl } from "./url.js";

// providers.aws.sign_req: AWS Signature Version 4 of an http.send request object, as OPA signs
// it (the time is an argument, so the result is deterministic). The library sends nothing.

const NAME = "providers.aws.sign_req";
const REQUIRED = ["aws_access_key", "aws_region", "aws_secret_access_key", "aws_service"];
const IGNORED_HEADERS = new Set(["authorization", "user-agent", "x-amzn-trace-id"]);

const text = (v: Value | undefined): string => (typeof v === "string" ? v : "");
const sha256Hex = (b: string | Buffer): string => createHash("sha256").update(b).digest("hex");
const hmac = (key: Buffer | string, msg: string): Buffer => createHmac("sha256", key).update(msg).digest();

function pad(n: number, w = 2): string {
  return String(n).padStart(w, "0");
}

function signReq(a: readonly Value[]): Value {
  const req = object(NAME, a, 0);
  const config = a[1] as Value;
  if (!(config instanceof RObject)) return failType(NAME, 1, "object", config);
  const missing = REQUIRED.filter((k) => !config.has(k));
  if (missing.length > 0) {
    failOperand(NAME, 2, `missing required AWS config parameters(s): ${formatValue(RSet.from(missing))}`);
  }
  const invalid = REQUIRED.filter((k) => typeof config.get(k) !== "string");
  if (invalid.length > 0) {
    failOperand(NAME, 2, `invalid values for required AWS config parameters(s): ${formatValue(RSet.from(invalid))}`);
  }
  const ns = a[2] as Value;
  if (typeof ns !== "number") return failType(NAME, 1, "number", ns);
  if (!Number.isInteger(ns) || ns < 0 || Math.abs(ns) >= 2 ** 63) {
    failOperand(NAME, 3, "could not convert time_ns value into a unix timestamp");
  }
  checkHttpRequest(NAME, req);
  const headersValue = req.get("headers");
  const headers = headersValue === undefined ? new RObject() : headersValue;
  if (!(headers instanceof RObject)) return failType(NAME, 0, "object", headers);
  const badValues = ["method", "url"].filter((k) => typeof req.get(k) !== "string");
  if (badValues.length > 0) {
    failOperand(NAME, 1, `invalid values for required request parameters(s): ${formatValue(RSet.from(badValues))}`);
  }
  const url = requestUrl(NAME, text(req.get("url")));
  const method = text(req.get("method"));
  const rawBody = req.get("raw_body");
  const body = req.get("body");
  const payload = rawBody !== undefined ? text(rawBody) : body !== undefined ? toJsonText(body) : "";
  const noPayloadSigning = config.get("disable_payload_signing");
  if (noPayloadSigning !== undefined && typeof noPayloadSigning !== "boolean") {
    failOperand(NAME, 2, "invalid value for 'disable_payload_signing' in AWS config");
  }
  const service = text(config.get("aws_service"));
  const region = text(config.get("aws_region"));
  const token = config.get("aws_session_token");

  const t = new Date(Math.floor(ns / 1e6));
  const date = `${t.getUTCFullYear()}${pad(t.getUTCMonth() + 1)}${pad(t.getUTCDate())}`;
  const stamp = `${date}T${pad(t.getUTCHours())}${pad(t.getUTCMinutes())}${pad(t.getUTCSeconds())}Z`;
  const contentHash = noPayloadSigning === true ? "UNSIGNED-PAYLOAD" : sha256Hex(Buffer.from(payload));

  const awsHeaders = new Map<string, string>([
    ["host", url.host],
    ["x-amz-date", stamp],
  ]);
  if (service === "s3" || service === "glacier") awsHeaders.set("x-amz-content-sha256", contentHash);
  if (token !== undefined && text(token) !== "") awsHeaders.set("x-amz-security-token", text(token));

  const toSign = new Map(awsHeaders);
  for (const [k, v] of headers.entries()) {
    const lower = text(k).toLowerCase();
    if (!IGNORED_HEADERS.has(lower)) toSign.set(lower, text(v));
  }
  const names = [...toSign.keys()].sort();
  const canonical = [
    method,
    url.escapedPath,
    url.rawQuery,
    ...names.map((k) => `${k}:${toSign.get(k)}`),
    "",
    names.join(";"),
    contentHash,
  ].join("\n");
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${stamp}\n${scope}\n${sha256Hex(canonical)}`;
  let key = hmac(`AWS4${text(config.get("aws_secret_access_key"))}`, date);
  for (const part of [region, service, "aws4_request"]) key = hmac(key, part);
  const signature = hmac(key, stringToSign).toString("hex");
  const auth = `AWS4-HMAC-SHA256 Credential=${text(config.get("aws_access_key"))}/${scope},SignedHeaders=${names.join(";")},Signature=${signature}`;

  const outHeaders = new ObjectBuilder();
  for (const [k, v] of headers.entries()) outHeaders.set(text(k), text(v));
  outHeaders.set("Authorization", auth);
  for (const [k, v] of awsHeaders) outHeaders.set(k, v);
  const out = new ObjectBuilder();
  for (const [k, v] of req.entries()) if (k !== "headers") out.set(k, v);
  out.set("headers", outHeaders.build());
  return out.build();
}

export const PROVIDER_BUILTINS: BuiltinTable = {
  "providers.aws.sign_req": { arity: 3, fn: (a) => signReq(a) },
};
