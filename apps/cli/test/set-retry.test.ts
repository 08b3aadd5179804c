// The retry loop of set, verify and recover, on a manual clock: what is retried, how often, and
// what stops it. (The real network cases are in set.test.ts.)
import { ContrastError, manualClock } from "@contrast/core";
import { cryptoRandom } from "@contrast/mesh-pki";
import { describe, expect, it } from "vitest";
import { parseCoordinatorAddress } from "../src/coordinator/address.js";
import { callCoordinator } from "../src/coordinator/dial.js";

const unavailable = () => new ContrastError("API_UNAVAILABLE", "connection refused", { kind: "io" });

function options(timeoutMs: number) {
  const clock = manualClock("2026-01-01T00:00:00Z");
  const sleeps: number[] = [];
  const retries: string[] = [];
  return {
    clock,
    sleeps,
    retries,
    dial: {
      address: parseCoordinatorAddress("127.0.0.1:1"),
      verify: { referenceValues: {}, clock },
      random: cryptoRandom,
      timeoutMs,
      clock,
      sleep: async (ms: number) => {
        sleeps.push(ms);
        clock.advance(ms);
      },
      onRetry: (_attempt: number, reason: ContrastError) => retries.push(reason.code),
    },
  };
}

describe("callCoordinator", () => {
  it("retries UNAVAILABLE every second and returns the first answer", async () => {
    const o = options(180_000);
    let calls = 0;
    const result = await callCoordinator(o.dial, async () => {
      calls++;
      if (calls < 4) throw unavailable();
      return "answer";
    });
    expect(result).toBe("answer");
    expect(o.sleeps).toEqual([1000, 1000, 1000]);
    expect(o.retries).toEqual(["API_UNAVAILABLE", "API_UNAVAILABLE", "API_UNAVAILABLE"]);
  });

  it("gives up when the budget is spent, with the attempts and the last error", async () => {
    const o = options(5000);
    const err = await callCoordinator(o.dial, async () => {
      throw unavailable();
    }).catch((e: unknown) => e as ContrastError);
    expect(err).toMatchObject({ code: "CLI_COORDINATOR_UNREACHABLE", kind: "io" });
    expect(err.details).toMatchObject({ attempts: 5, lastError: "API_UNAVAILABLE" });
    expect(err.cause).toMatchObject({ code: "API_UNAVAILABLE" });
  });

  it("never retries an answer: a refusal or any other error is thrown at once", async () => {
    for (const code of ["COORDINATOR_UPDATE_UNAUTHORIZED", "COORDINATOR_IN_RECOVERY", "API_INVALID_ARGUMENT"]) {
      const o = options(180_000);
      let calls = 0;
      await expect(
        callCoordinator(o.dial, async () => {
          calls++;
          throw new ContrastError(code, "no", { kind: "policy" });
        }),
      ).rejects.toMatchObject({ code });
      expect(calls).toBe(1);
      expect(o.sleeps).toEqual([]);
    }
  });

  it("passes each attempt a deadline within the budget", async () => {
    const o = options(10_000);
    const deadlines: number[] = [];
    await callCoordinator(o.dial, async (_client, deadline) => {
      deadlines.push(deadline.getTime() - o.clock.now().getTime());
      if (deadlines.length < 3) throw unavailable();
      return undefined;
    });
    expect(deadlines).toEqual([10_000, 9000, 8000]);
  });
});
