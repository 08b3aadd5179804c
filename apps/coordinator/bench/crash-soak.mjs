// Crash consistency of the Coordinator's history: kill -9 the Coordinator at random points while
// it handles SetManifest, restart it, recover it with the seed, and check that the history is
// intact (GetManifests walks and hash-checks the chain; Recover checks the signed latest) and
// that no acknowledged manifest was lost. `node bench/crash-soak.mjs [trials]` (default 100,
// or SOAK_TRIALS); the process tests run 10.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { recoverSeed } from "@contrast/mesh-pki";
import { ecKey, loadSim, rsaKey, setManifestRequest, userClient } from "./client.mjs";
import { startCoordinator } from "./process.mjs";

const equalBytes = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `trials` kill/restart/recover rounds; resolves with counts, throws on the first violation.
 * Each trial: recover the restarted Coordinator, check the history against what was acknowledged,
 * start an update and SIGKILL the process after a random delay within the update's usual time.
 */
export async function crashSoak({ trials = 100, log = () => {}, random = Math.random } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "coordinator-crash-soak-"));
  const args = ["--platform", "sim", "--state-dir", join(dir, "state"), "--sim-dir", join(dir, "sim")];
  const owner = ecKey("P-384");
  const seedOwner = rsaKey();
  const workloads = { web: {} };
  const counts = { trials: 0, acknowledged: 0, committedUnacknowledged: 0, lostInFlight: 0 };
  let c = await startCoordinator(args);
  try {
    const authority = await loadSim(join(dir, "sim"));
    const request = (generation) =>
      setManifestRequest({ authority, workloads, owners: [owner], seedShareOwners: [seedOwner], generation });
    // The first manifest, and the time an update usually takes (the window to kill in).
    let user = userClient(c.userApiPort, authority, owner);
    const first = await user.setManifest(request(0));
    const { seed, salt } = recoverSeed(first.SeedSharesDoc, seedOwner);
    const acked = [request(0).Manifest];
    let t0 = performance.now();
    await user.setManifest(request(1));
    const window = Math.max(5, (performance.now() - t0) * 1.5);
    acked.push(request(1).Manifest);
    user.close();

    for (let trial = 0; trial < trials; trial++) {
      // An update in flight, killed at a random point of it.
      const generation = acked.length;
      const next = request(generation);
      user = userClient(c.userApiPort, authority, owner);
      await user.getManifests({}); // the connection is up before the clock starts
      let acknowledged = false;
      const inFlight = user.setManifest(next).then(
        () => {
          acknowledged = true;
        },
        () => {},
      );
      const delay = random() * window;
      t0 = performance.now();
      await sleep(delay);
      c.proc.kill("SIGKILL");
      await c.exited;
      await inFlight;
      user.close();

      c = await startCoordinator(args);
      const recoverer = userClient(c.userApiPort, authority, seedOwner);
      try {
        await recoverer.recover({ Seed: seed, Salt: salt });
        const got = await recoverer.getManifests({});
        const manifests = got.Manifests;
        // Every acknowledged manifest is there, in order; at most the one in flight follows.
        for (let i = 0; i < acked.length; i++) {
          if (manifests[i] === undefined || !equalBytes(manifests[i], acked[i])) {
            throw new Error(`trial ${trial}: acknowledged manifest ${i + 1} of ${acked.length} is missing or changed`);
          }
        }
        if (manifests.length === acked.length + 1) {
          if (!equalBytes(manifests[acked.length], next.Manifest))
            throw new Error(`trial ${trial}: an unknown manifest follows`);
          acked.push(next.Manifest);
          if (acknowledged) counts.acknowledged++;
          else counts.committedUnacknowledged++;
        } else if (manifests.length === acked.length) {
          if (acknowledged) throw new Error(`trial ${trial}: an acknowledged update was lost`);
          counts.lostInFlight++;
        } else {
          throw new Error(
            `trial ${trial}: ${manifests.length} manifests, expected ${acked.length} or ${acked.length + 1}`,
          );
        }
      } finally {
        recoverer.close();
      }
      counts.trials++;
      log(`trial ${trial + 1}/${trials}: killed after ${delay.toFixed(1)} ms; ${acked.length} manifests`);
    }
    return { ...counts, manifests: acked.length, windowMs: window };
  } finally {
    c.proc.kill("SIGKILL");
    await c.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const trials = Number(process.argv[2] ?? process.env.SOAK_TRIALS ?? 100);
  const r = await crashSoak({ trials, log: (l) => process.stderr.write(`${l}\n`) });
  console.log(
    `crash soak: ${r.trials} kill -9 trials during SetManifest (window ${r.windowMs.toFixed(0)} ms): ` +
      `${r.acknowledged} committed and acknowledged, ${r.committedUnacknowledged} committed before the ack, ` +
      `${r.lostInFlight} not committed (never acknowledged); history intact, no acknowledged update lost`,
  );
}
