import type { LayerMetadata as ImageLayer } from "@contrast/oci";
import type { KataUser } from "./types.js";

interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}
interface GroupEntry {
  readonly name: string;
  readonly gid: number;
  readonly members: readonly string[];
}

/** The user-related pod and container fields (container fields win, as in Kubernetes). */
export interface UserInputs {
  readonly runAsUser: number | undefined;
  readonly runAsGroup: number | undefined;
  readonly supplementalGroups: readonly number[];
  readonly fsGroup: number | undefined;
}

/** The topmost layer's copy of a file wins, as in the unpacked image. */
function latest(layers: readonly ImageLayer[], file: "passwd" | "group"): string | undefined {
  for (let i = layers.length - 1; i >= 0; i--) {
    const text = layers[i]?.[file];
    if (text === null) return undefined; // deleted by this layer
    if (text !== undefined) return text;
  }
  return undefined;
}

function parsePasswd(text: string | undefined): PasswdEntry[] {
  if (text === undefined) return [];
  return text.split("\n").flatMap((line) => {
    const f = line.split(":");
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (f.length < 4 || f[0] === undefined || !Number.isInteger(uid) || !Number.isInteger(gid)) return [];
    return [{ name: f[0], uid, gid }];
  });
}

function parseGroup(text: string | undefined): GroupEntry[] {
  if (text === undefined) return [];
  return text.split("\n").flatMap((line) => {
    const f = line.split(":");
    const gid = Number(f[2]);
    if (f.length < 4 || f[0] === undefined || !Number.isInteger(gid)) return [];
    return [{ name: f[0], gid, members: (f[3] ?? "").split(",").filter((m) => m !== "") }];
  });
}

const NUMBER = /^[0-9]+$/;

/**
 * The process user the runtime will set, from the image's USER and /etc/passwd and /etc/group
 * (when the image metadata carries them) and the security contexts, as containerd computes it:
 * - UID: runAsUser, else the image user (a number, or a name looked up in /etc/passwd), else 0;
 * - GID: runAsGroup, else the image's group part, else the passwd entry's group, else 0;
 * - AdditionalGids: the GID, the groups that list the user's name in /etc/group, the pod's
 *   supplementalGroups and its fsGroup.
 */
export function resolveUser(
  imageUser: string | undefined,
  layers: readonly ImageLayer[],
  inputs: UserInputs,
): KataUser {
  const passwd = parsePasswd(latest(layers, "passwd"));
  const groups = parseGroup(latest(layers, "group"));
  const [userPart = "", groupPart] = (imageUser ?? "").split(":", 2);
  let uid = 0;
  let entry: PasswdEntry | undefined;
  if (inputs.runAsUser !== undefined) {
    uid = inputs.runAsUser;
    entry = passwd.find((p) => p.uid === uid);
  } else if (NUMBER.test(userPart)) {
    uid = Number(userPart);
    entry = passwd.find((p) => p.uid === uid);
  } else if (userPart !== "") {
    entry = passwd.find((p) => p.name === userPart);
    uid = entry?.uid ?? 0;
  } else {
    entry = passwd.find((p) => p.uid === 0);
  }
  let gid: number;
  if (inputs.runAsGroup !== undefined) gid = inputs.runAsGroup;
  else if (groupPart !== undefined && groupPart !== "" && inputs.runAsUser === undefined) {
    gid = NUMBER.test(groupPart) ? Number(groupPart) : (groups.find((g) => g.name === groupPart)?.gid ?? 0);
  } else gid = entry?.gid ?? 0;
  const additional = new Set<number>([gid]);
  if (entry !== undefined) {
    for (const g of groups) if (g.members.includes(entry.name)) additional.add(g.gid);
  }
  for (const g of inputs.supplementalGroups) additional.add(g);
  if (inputs.fsGroup !== undefined) additional.add(inputs.fsGroup);
  return { UID: uid, GID: gid, AdditionalGids: [...additional].sort((a, b) => a - b), Username: "" };
}
