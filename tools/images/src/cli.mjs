#!/usr/bin/env node
// contrast-images build [--out DIR] [--version V] [--image NAME…]
// contrast-images push --layout DIR --registry HOST[:PORT][/PREFIX] [--tag T] [--insecure]
//                      [--image NAME…] [--username U --password-stdin] [--docker-config FILE]
// Wiring only: the work is in build.mjs/push.mjs and @contrast/oci.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { buildImages } from "./build.mjs";
import { defaultDockerConfig, dockerCredentials, pushLayout } from "./push.mjs";

const ROOT = resolve(new URL("../../..", import.meta.url).pathname);

const USAGE = `usage:
  contrast-images build [--out build/images] [--version V] [--image NAME]...
  contrast-images push --registry HOST[:PORT][/PREFIX] [--layout build/images] [--tag T] [--insecure]
                       [--image NAME]... [--username U --password-stdin] [--docker-config FILE]`;

/** @param {unknown} e */
function fail(e) {
  const err = /** @type {{ code?: unknown, message?: string, hint?: string }} */ (e);
  if (typeof err?.code === "string" && /^[A-Z][A-Z0-9_]+$/.test(err.code) && err.hint !== undefined) {
    console.error(`contrast-images: ${err.code}: ${err.message}\n  hint: ${err.hint}`);
    process.exit(1);
  }
  throw e;
}

async function main() {
  const [command, ...rest] = process.argv.slice(2);
  if (command === "build") {
    const { values } = parseArgs({
      args: rest,
      options: {
        out: { type: "string", default: "build/images" },
        version: { type: "string" },
        image: { type: "string", multiple: true },
      },
    });
    const epoch = process.env.SOURCE_DATE_EPOCH;
    if (epoch !== undefined && !/^[0-9]+$/.test(epoch)) {
      console.error("contrast-images: SOURCE_DATE_EPOCH must be a whole number of seconds");
      process.exit(2);
    }
    const doc = await buildImages({
      root: ROOT,
      out: resolve(values.out),
      ...(values.version === undefined ? {} : { version: values.version }),
      ...(values.image === undefined ? {} : { only: values.image }),
      ...(epoch === undefined ? {} : { sourceDateEpoch: Number(epoch) }),
    });
    for (const [name, image] of Object.entries(doc.images)) {
      const bytes = image.layers.reduce((n, l) => n + l.size, 0);
      console.log(`${name}@${image.digest} ${(bytes / 1024 / 1024).toFixed(1)} MiB`);
    }
    return;
  }
  if (command === "push") {
    const { values } = parseArgs({
      args: rest,
      options: {
        layout: { type: "string", default: "build/images" },
        registry: { type: "string" },
        tag: { type: "string" },
        insecure: { type: "boolean", default: false },
        image: { type: "string", multiple: true },
        username: { type: "string" },
        "password-stdin": { type: "boolean", default: false },
        "docker-config": { type: "string" },
      },
    });
    if (values.registry === undefined) {
      console.error(`contrast-images: --registry is required\n${USAGE}`);
      process.exit(2);
    }
    if ((values.username === undefined) !== (values["password-stdin"] === false)) {
      console.error("contrast-images: --username and --password-stdin go together");
      process.exit(2);
    }
    const registryHost = values.registry.split("/")[0] ?? "";
    const credentials =
      values.username !== undefined
        ? { username: values.username, password: readFileSync(0, "utf8").replace(/\r?\n$/, "") }
        : await dockerCredentials(values["docker-config"] ?? defaultDockerConfig(process.env), registryHost);
    await pushLayout({
      layout: resolve(values.layout),
      target: values.registry,
      ...(values.tag === undefined ? {} : { tag: values.tag }),
      insecure: values.insecure,
      ...(credentials === undefined ? {} : { credentials }),
      ...(values.image === undefined ? {} : { only: values.image }),
      log: (line) => console.log(line),
    });
    return;
  }
  console.error(USAGE);
  process.exit(2);
}

main().catch(fail);
