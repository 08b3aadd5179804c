import { type Logger, noopLogger } from "@contrast/core";
import { ImageError } from "./errors.js";
import { discardBody, type HttpResponse } from "./http.js";
import { isLoopbackRegistry } from "./reference.js";
import { bearerToken, parseChallenge, type RegistryCredentials } from "./registry.js";
import { backoffDelay, defaultSleep, type Random, type Sleep } from "./retry.js";

/** The slice of WHATWG `fetch` a push needs (Node's global `fetch` fits). */
export interface PushRequestInit {
  method: "GET" | "HEAD" | "POST" | "PUT";
  headers: Record<string, string>;
  body?: Uint8Array;
  redirect?: "follow";
}

export type PushFetcher = (url: string, init: PushRequestInit) => Promise<HttpResponse>;

export interface PushBlob {
  readonly digest: string;
  readonly size: number;
}

export interface PushImageOptions {
  readonly fetch: PushFetcher;
  /** `host[:port]`. */
  readonly registry: string;
  /** The repository path on the registry ("contrast/coordinator"). */
  readonly repository: string;
  /** Tags the manifest is put under; without tags it is put by digest only. */
  readonly tags?: readonly string[];
  readonly manifest: { readonly bytes: Uint8Array; readonly mediaType: string; readonly digest: string };
  /** Config and layers. */
  readonly blobs: readonly PushBlob[];
  /** The bytes of a blob, asked for only when the registry lacks it. */
  readonly readBlob: (digest: string) => Promise<Uint8Array>;
  readonly credentials?: RegistryCredentials;
  /**
   * Allow plain HTTP (and Basic credentials over it) to this registry: HTTPS is tried first and
   * HTTP used when it does not answer, as Docker does for insecure registries. Loopback
   * registries get the same treatment without it.
   */
  readonly insecure?: boolean;
  /**
   * Repositories on the same registry that may already hold some blobs: they are mounted from
   * there (cross-repository blob mount) instead of uploaded again. The shared runtime layer is
   * uploaded once for all images that way.
   */
  readonly mountFrom?: readonly string[];
  /** Attempts per request for connection failures and 5xx answers (default 3). */
  readonly attempts?: number;
  readonly sleep?: Sleep;
  readonly random?: Random;
  readonly logger?: Logger;
}

export interface PushResult {
  readonly digest: string;
  /** Blob digests by what happened to them. */
  readonly uploaded: readonly string[];
  readonly mounted: readonly string[];
  readonly existing: readonly string[];
}

const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;

/** A push target "host[:port][/prefix/path]", split and checked. */
export interface PushTarget {
  readonly registry: string;
  /** "" when images go to the registry's top level. */
  readonly prefix: string;
}

function targetInvalid(text: string, why: string): ImageError {
  return new ImageError("IMAGE_REFERENCE_INVALID", `invalid registry target ${JSON.stringify(text)}: ${why}`, {
    hint: "Write the target as host[:port][/path], for example localhost:5000/contrast or ghcr.io/org/contrast.",
  });
}

export function parsePushTarget(text: string): PushTarget {
  const slash = text.indexOf("/");
  const registry = slash < 0 ? text : text.slice(0, slash);
  const prefix = slash < 0 ? "" : text.slice(slash + 1).replace(/\/+$/, "");
  if (!/^[A-Za-z0-9.-]+(?::[0-9]{1,5})?$/.test(registry) && !/^\[[0-9a-fA-F:]+\](?::[0-9]{1,5})?$/.test(registry)) {
    throw targetInvalid(text, "the registry must be host[:port]");
  }
  if (prefix !== "" && !prefix.split("/").every((c) => COMPONENT.test(c))) {
    throw targetInvalid(text, "the path must be lowercase components separated by /");
  }
  return { registry, prefix };
}

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

const basic = (c: RegistryCredentials): string =>
  `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`;

/**
 * Pushes one image through the OCI distribution API: for each blob a HEAD (present → skipped),
 * else a cross-repository mount when offered, else POST an upload session and PUT the bytes
 * with `?digest=`; then the manifest PUT under each tag (or its digest). Authentication answers
 * the registry's `WWW-Authenticate` challenge: Basic with the credentials, or a Bearer token
 * for `repository:<repo>:pull,push` from the challenge's realm.
 */
export async function pushImage(options: PushImageOptions): Promise<PushResult> {
  return new Pusher(options).push();
}

class Pusher {
  private readonly logger: Logger;
  private readonly attempts: number;
  private readonly sleep: Sleep;
  private readonly random: Random;
  private authorization: string | undefined;
  private base: string | undefined;

  constructor(private readonly o: PushImageOptions) {
    this.logger = o.logger ?? noopLogger;
    this.attempts = Math.max(1, o.attempts ?? 3);
    this.sleep = o.sleep ?? defaultSleep;
    this.random = o.random ?? Math.random;
    for (const t of o.tags ?? []) {
      if (!TAG.test(t)) {
        throw new ImageError("IMAGE_REFERENCE_INVALID", `invalid tag ${JSON.stringify(t)}`, {
          hint: "Tags are up to 128 characters of letters, digits, '_', '.' and '-', not starting with '.' or '-'.",
        });
      }
    }
    if (!o.repository.split("/").every((c) => COMPONENT.test(c))) {
      throw new ImageError("IMAGE_REFERENCE_INVALID", `invalid repository ${JSON.stringify(o.repository)}`, {
        hint: "Repository names are lowercase components separated by /.",
      });
    }
  }

  async push(): Promise<PushResult> {
    const uploaded: string[] = [];
    const mounted: string[] = [];
    const existing: string[] = [];
    for (const blob of this.o.blobs) {
      const outcome = await this.pushBlob(blob);
      (outcome === "uploaded" ? uploaded : outcome === "mounted" ? mounted : existing).push(blob.digest);
    }
    const refs = this.o.tags !== undefined && this.o.tags.length > 0 ? this.o.tags : [this.o.manifest.digest];
    for (const ref of refs) {
      const res = await this.request("PUT", await this.url(`manifests/${ref}`), `manifest ${ref}`, {
        headers: { "Content-Type": this.o.manifest.mediaType },
        body: this.o.manifest.bytes,
      });
      await discardBody(res);
      if (res.status !== 201 && res.status !== 200) throw this.rejected(`manifest ${ref}`, res.status);
      const claimed = res.headers.get("docker-content-digest");
      if (claimed !== null && claimed !== this.o.manifest.digest) {
        throw new ImageError(
          "DIGEST_MISMATCH",
          `the registry stored manifest ${ref} as ${claimed}, not ${this.o.manifest.digest}`,
          {
            kind: "crypto",
            hint: "The registry rewrote the manifest; it would not match the pinned digest. Use a registry that stores manifests as pushed.",
            details: { expected: this.o.manifest.digest, actual: claimed },
          },
        );
      }
    }
    return { digest: this.o.manifest.digest, uploaded, mounted, existing };
  }

  private async pushBlob(blob: PushBlob): Promise<"uploaded" | "mounted" | "existing"> {
    const head = await this.request("HEAD", await this.url(`blobs/${blob.digest}`), `blob ${blob.digest}`);
    await discardBody(head);
    if (head.status === 200) return "existing";
    if (head.status !== 404) throw this.rejected(`HEAD of blob ${blob.digest}`, head.status);
    let location: string | undefined;
    for (const from of this.o.mountFrom ?? []) {
      if (from === this.o.repository) continue;
      const q = new URLSearchParams({ mount: blob.digest, from });
      const res = await this.request("POST", await this.url(`blobs/uploads/?${q}`), `mount of ${blob.digest}`, {
        extraScope: from,
      });
      await discardBody(res);
      if (res.status === 201) return "mounted";
      if (res.status === 202) {
        location = res.headers.get("location") ?? undefined;
        break;
      }
      throw this.rejected(`mount of blob ${blob.digest}`, res.status);
    }
    if (location === undefined) {
      const start = await this.request("POST", await this.url("blobs/uploads/"), `upload of ${blob.digest}`);
      await discardBody(start);
      if (start.status !== 202) throw this.rejected(`upload start for blob ${blob.digest}`, start.status);
      location = start.headers.get("location") ?? undefined;
    }
    if (location === undefined || location === "") {
      throw new ImageError("REGISTRY_BAD_RESPONSE", `${this.o.registry} started an upload without a Location`, {
        hint: "The registry or a proxy in front of it answered wrongly; check the registry address.",
      });
    }
    const bytes = await this.o.readBlob(blob.digest);
    const target = new URL(location, await this.url(""));
    target.searchParams.set("digest", blob.digest);
    const put = await this.request("PUT", target.toString(), `upload of ${blob.digest}`, {
      headers: { "Content-Type": "application/octet-stream", "Content-Length": String(bytes.length) },
      body: bytes,
    });
    await discardBody(put);
    if (put.status !== 201) throw this.rejected(`upload of blob ${blob.digest}`, put.status);
    return "uploaded";
  }

  private rejected(what: string, status: number): ImageError {
    return new ImageError(
      "IMAGE_PUSH_REJECTED",
      `${this.o.registry} answered ${status} to the ${what} (${this.o.repository})`,
      {
        hint: "Check the registry address and repository prefix and that the account may push there.",
        details: { registry: this.o.registry, repository: this.o.repository, status },
      },
    );
  }

  private mayUseHttp(): boolean {
    return this.o.insecure === true || isLoopbackRegistry(this.o.registry);
  }

  /** HTTPS, or HTTP for an insecure/loopback registry that does not answer HTTPS. */
  private async url(path: string): Promise<string> {
    if (this.base === undefined) {
      let scheme = "https";
      if (this.mayUseHttp()) {
        try {
          await discardBody(await this.o.fetch(`https://${this.o.registry}/v2/`, { method: "GET", headers: {} }));
        } catch {
          scheme = "http";
        }
      }
      this.base = `${scheme}://${this.o.registry}/v2/${this.o.repository}/`;
    }
    return `${this.base}${path}`;
  }

  /** One request with auth and retries; any HTTP status but 401 and 5xx comes back to the caller. */
  private async request(
    method: PushRequestInit["method"],
    url: string,
    what: string,
    extra: { headers?: Record<string, string>; body?: Uint8Array; extraScope?: string } = {},
  ): Promise<HttpResponse> {
    let authTried = false;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { ...extra.headers };
      if (this.authorization !== undefined) headers.Authorization = this.authorization;
      let res: HttpResponse;
      try {
        res = await this.o.fetch(url, {
          method,
          headers,
          redirect: "follow",
          ...(extra.body === undefined ? {} : { body: extra.body }),
        });
      } catch (cause) {
        if (attempt + 1 < this.attempts) {
          await this.#backOff(attempt);
          continue;
        }
        throw new ImageError("REGISTRY_UNAVAILABLE", `cannot reach ${this.o.registry} for the ${what}`, {
          kind: "io",
          cause,
          hint: "Check the registry address, that it runs, the network and proxies; for a registry without TLS pass --insecure.",
          details: { registry: this.o.registry, attempts: attempt + 1 },
        });
      }
      if (res.status === 401) {
        const challenge = parseChallenge(res.headers.get("www-authenticate") ?? "");
        await discardBody(res);
        if (!authTried) {
          authTried = true;
          const header = await this.authenticate(challenge, extra.extraScope);
          if (header !== undefined) {
            this.authorization = header;
            attempt--;
            continue;
          }
        }
        throw this.unauthorized(what, 401);
      }
      if (res.status === 403) {
        await discardBody(res);
        throw this.unauthorized(what, 403);
      }
      if (res.status >= 500 || res.status === 429) {
        await discardBody(res);
        if (attempt + 1 < this.attempts) {
          await this.#backOff(attempt);
          continue;
        }
        throw new ImageError("REGISTRY_UNAVAILABLE", `${this.o.registry} answered ${res.status} to the ${what}`, {
          kind: "io",
          hint: "The registry has trouble; run the command again later.",
          details: { registry: this.o.registry, status: res.status, attempts: attempt + 1 },
        });
      }
      return res;
    }
  }

  private unauthorized(what: string, status: number): ImageError {
    return new ImageError("REGISTRY_UNAUTHORIZED", `${this.o.registry} refused the ${what} (HTTP ${status})`, {
      hint:
        this.o.credentials === undefined
          ? "The registry needs credentials: pass --username and --password-stdin, or log in with docker login."
          : "The registry rejected the credentials; check user name and password and their push permission.",
      details: { registry: this.o.registry, repository: this.o.repository, status },
    });
  }

  private async authenticate(
    challenge: ReturnType<typeof parseChallenge>,
    extraScope: string | undefined,
  ): Promise<string | undefined> {
    const credentials = this.o.credentials;
    if (challenge?.scheme === "basic") return credentials === undefined ? undefined : basic(credentials);
    if (challenge?.scheme !== "bearer" || challenge.params.realm === undefined) return undefined;
    let realm: URL;
    try {
      realm = new URL(challenge.params.realm);
    } catch {
      return undefined;
    }
    if (
      realm.protocol === "http:" &&
      credentials !== undefined &&
      !this.mayUseHttp() &&
      !isLoopbackRegistry(realm.host)
    ) {
      throw new ImageError(
        "REGISTRY_INSECURE_REFUSED",
        `${this.o.registry} asks for credentials over plain HTTP (${realm})`,
        {
          hint: "Refusing to send a password unencrypted; pass --insecure if this is intended.",
        },
      );
    }
    if (challenge.params.service !== undefined) realm.searchParams.set("service", challenge.params.service);
    realm.searchParams.append("scope", `repository:${this.o.repository}:pull,push`);
    if (extraScope !== undefined) realm.searchParams.append("scope", `repository:${extraScope}:pull`);
    let res: HttpResponse;
    try {
      res = await this.o.fetch(realm.toString(), {
        method: "GET",
        headers: credentials === undefined ? {} : { Authorization: basic(credentials) },
        redirect: "follow",
      });
    } catch (cause) {
      throw new ImageError("REGISTRY_UNAVAILABLE", `the token server of ${this.o.registry} cannot be reached`, {
        kind: "io",
        cause,
        hint: "Check the network; run the command again later.",
        details: { realm: realm.origin },
      });
    }
    if (res.status === 401 || res.status === 403) {
      await discardBody(res);
      throw this.unauthorized("token request", res.status);
    }
    const token = await bearerToken(res, this.o.registry, { status: res.status });
    this.logger.debug("registry token obtained", { registry: this.o.registry });
    return `Bearer ${token}`;
  }
  /** Waits before another attempt: exponential back-off with jitter. */
  #backOff(attempt: number): Promise<void> {
    return this.sleep(
      backoffDelay(
        { attempts: this.attempts, baseDelayMs: 200, maxDelayMs: 5_000, maxRetryAfterMs: 0 },
        attempt,
        this.random,
      ),
    );
  }
}
