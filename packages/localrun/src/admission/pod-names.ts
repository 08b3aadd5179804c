import { sha256Hex, utf8 } from "@contrast/core";

// Kubernetes' safe alphabet for generated name suffixes (no vowels, no look-alikes).
const ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

function suffix(seed: string, n: number): string {
  const h = sha256Hex(utf8(seed));
  let out = "";
  for (let i = 0; i < n; i++) out += ALPHABET[Number.parseInt(h.slice(i * 2, i * 2 + 2), 16) % ALPHABET.length];
  return out;
}

/**
 * The name a workload's controller gives its pod number `instance`, in the shape the policy's
 * sandbox-name pattern expects: a StatefulSet's `<name>-<ordinal>`, a Deployment's
 * `<name>-<template hash>-<5 characters>`, a ReplicaSet's, DaemonSet's or Job's
 * `<name>-<5 characters>`, a Pod's own name. Deterministic, so a demo's pods keep their names
 * across runs; a different `instance` gives another pod (a restarted Deployment pod is a new one).
 */
export function controllerPodName(kind: string, name: string, instance = 0): string {
  switch (kind) {
    case "Pod":
      return name;
    case "StatefulSet":
      return `${name}-${instance}`;
    case "Deployment":
      return `${name}-${suffix(`template:${name}`, 10)}-${suffix(`pod:${name}/${instance}`, 5)}`;
    default:
      return `${name}-${suffix(`pod:${name}/${instance}`, 5)}`;
  }
}
