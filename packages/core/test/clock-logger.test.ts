import { describe, expect, it } from "vitest";
import { fixedClock, manualClock, systemClock } from "../src/clock.js";
import { type Logger, parseLogLevel, withLevel } from "../src/logger.js";

describe("clocks", () => {
  it("fixed clocks stay put and return fresh Date objects", () => {
    const c = fixedClock("2025-03-01T00:00:00Z");
    const a = c.now();
    a.setFullYear(1999);
    expect(c.now().toISOString()).toBe("2025-03-01T00:00:00.000Z");
    expect(() => fixedClock("not a date")).toThrow(RangeError);
  });

  it("manual clocks move only when told", () => {
    const c = manualClock(1000);
    c.advance(500);
    expect(c.now().getTime()).toBe(1500);
    c.set("2030-01-01T00:00:00Z");
    expect(c.now().getUTCFullYear()).toBe(2030);
    expect(() => c.set(Number.NaN)).toThrow(RangeError);
  });

  it("the system clock reads the wall clock", () => {
    expect(Math.abs(systemClock.now().getTime() - Date.now())).toBeLessThan(1000);
  });
});

describe("log levels", () => {
  it("parses names and slog numbers like upstream --log-level", () => {
    expect(parseLogLevel("DEBUG")).toBe("debug");
    expect(parseLogLevel("warn")).toBe("warn");
    expect(parseLogLevel("-4")).toBe("debug");
    expect(parseLogLevel("0")).toBe("info");
    expect(parseLogLevel("2")).toBe("info");
    expect(parseLogLevel("4")).toBe("warn");
    expect(parseLogLevel("12")).toBe("error");
    expect(() => parseLogLevel("verbose")).toThrow(expect.objectContaining({ code: "LOG_LEVEL_INVALID" }));
  });

  it("filters below the level", () => {
    const seen: string[] = [];
    const base: Logger = {
      debug: (m) => seen.push(`d:${m}`),
      info: (m) => seen.push(`i:${m}`),
      warn: (m) => seen.push(`w:${m}`),
      error: (m) => seen.push(`e:${m}`),
    };
    const log = withLevel(base, "warn");
    log.debug("a");
    log.info("b");
    log.warn("c");
    log.error("d");
    expect(seen).toEqual(["w:c", "e:d"]);
  });
});
