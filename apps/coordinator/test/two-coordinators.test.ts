import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recoverSeed } from "@contrast/mesh-pki";
import { afterAll, describe, expect, it } from "vitest";
import { ecKey, loadSim, rsaKey, setManifestRequest, userClient } from "../bench/client.mjs";
import { crashSoak } from "../bench/crash-soak.mjs";
import { type RunningCoordinator, startCoordinator } from "../bench/process.mjs";

const tmp = mkdtempSync(join(tmpdir(), "coordinator-two-"));
const running: RunningCoordinator[] = [];
afterAll(() => {
  for (const c of running) c.proc.kill("SIGKILL");
  rmSync(tmp, { recursive: true, force: true });
});

describe("two Coordinators on one state directory", () => {
  it("never fork the history: one concurrent update wins, the other Coordinator turns stale", async () => {
    const args = ["--platform", "sim", "--state-dir", join(tmp, "state"), "--sim-dir", join(tmp, "sim")];
    const [a, b] = await Promise.all([startCoordinator(args), startCoordinator(args)]);
    running.push(a, b);
    const authority = await loadSim(join(tmp, "sim"));
    const owner = ecKey("P-384");
    const seedOwner = rsaKey();
    const request = (generation: number) =>
      setManifestRequest({
        authority,
        workloads: { web: {} },
        owners: [owner],
        seedShareOwners: [seedOwner],
        generation,
      });

    const ua = userClient(a.userApiPort, authority, owner);
    const ub = userClient(b.userApiPort, authority, seedOwner);
    const ubOwner = userClient(b.userApiPort, authority, owner);
    try {
      const first = await ua.setManifest(request(0));
      // B did not set it: it sees a history it has no seed for, and waits for recovery.
      expect((await b.probe("/probe/readiness")).body).toMatch(/^recovery/);
      const { seed, salt } = recoverSeed(first.SeedSharesDoc as Parameters<typeof recoverSeed>[0], seedOwner);
      await ub.recover({ Seed: seed, Salt: salt });
      expect((await b.probe("/probe/readiness")).status).toBe(200);

      // Both running on generation 1; both take an update at the same time.
      const results = await Promise.allSettled([ua.setManifest(request(1)), ubOwner.setManifest(request(2))]);
      const won = results.filter((r) => r.status === "fulfilled");
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(["HISTORY_CONCURRENT_UPDATE", "COORDINATOR_IN_RECOVERY"]).toContain(lost[0]?.reason.code);

      const winner = results[0]?.status === "fulfilled" ? a : b;
      const loser = winner === a ? b : a;
      const winnerClient = winner === a ? ua : ubOwner;
      const loserClient = winner === a ? ubOwner : ua;
      // The loser's view is stale: not ready, and its API says recovery (FAILED_PRECONDITION).
      expect((await loser.probe("/probe/readiness")).body).toMatch(/^recovery: another Coordinator/);
      await expect(loserClient.getManifests({})).rejects.toMatchObject({ code: "COORDINATOR_IN_RECOVERY" });
      // One linear history of two manifests, the winner's update second.
      const got = await winnerClient.getManifests({});
      const which = (m: Uint8Array) => [0, 1, 2].find((g) => Buffer.from(request(g).Manifest).equals(Buffer.from(m)));
      expect(got.Manifests.map(which)).toEqual([0, winner === a ? 1 : 2]);
    } finally {
      ua.close();
      ub.close();
      ubOwner.close();
    }
  }, 120_000);
});

describe("crash consistency", () => {
  it("kill -9 during SetManifest never loses an acknowledged update nor breaks the history (10 trials)", async () => {
    const r = await crashSoak({ trials: 10 });
    expect(r.trials).toBe(10);
    expect(r.acknowledged + r.committedUnacknowledged + r.lostInFlight).toBe(10);
  }, 240_000);
});
