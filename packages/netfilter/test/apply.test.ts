import { expectCodeAsync } from "@contrast/testkit";
import { describe, expect, it } from "vitest";
import {
  type IptablesRunner,
  installDefaultDeny,
  type RunResult,
  removeDefaultDeny,
  setUpInterception,
} from "../src/index.js";

/**
 * A fake iptables: a set of rules per binary and table, answering -S, -C, -N, -F, -A, -I, -D and -X
 * as iptables does (status 1 for a missing chain or rule), and recording every call.
 */
function fakeIptables(initial: Partial<Record<"iptables" | "ip6tables", string[]>> = {}) {
  const calls: string[] = [];
  const state = new Map<string, string[] | undefined>();
  const key = (binary: string, table: string, chain: string) => `${binary}/${table}/${chain}`;
  for (const binary of ["iptables", "ip6tables"] as const) {
    state.set(key(binary, "nat", "PREROUTING"), []);
    state.set(key(binary, "filter", "INPUT"), [...(initial[binary] ?? [])]);
  }
  const runner: IptablesRunner = async (binary, args): Promise<RunResult> => {
    calls.push(`${binary} ${args.join(" ")}`);
    expect(args[0]).toBe("-w");
    let rest = args.slice(1);
    let table = "filter";
    if (rest[0] === "-t") {
      table = rest[1] ?? "";
      rest = rest.slice(2);
    }
    const [op, chain = "", ...words] = rest;
    // -I CHAIN [position] rule: this fake only inserts at the top.
    const spec = op === "-I" && /^\d+$/.test(words[0] ?? "") ? words.slice(1) : words;
    const rules = state.get(key(binary, table, chain));
    const text = spec.join(" ");
    const ok = (stdout = ""): RunResult => ({ code: 0, stdout, stderr: "" });
    const missing: RunResult = { code: 1, stdout: "", stderr: "No chain/target/match by that name." };
    switch (op) {
      case "-S":
        return rules === undefined ? missing : ok([`-N ${chain}`, ...rules.map((r) => `-A ${chain} ${r}`)].join("\n"));
      case "-N":
        if (rules !== undefined) return { code: 1, stdout: "", stderr: "Chain already exists." };
        state.set(key(binary, table, chain), []);
        return ok();
      case "-F":
        if (rules === undefined) return missing;
        rules.length = 0;
        return ok();
      case "-X":
        if (rules === undefined) return missing;
        state.delete(key(binary, table, chain));
        return ok();
      case "-A":
      case "-I":
        if (rules === undefined) return missing;
        if (op === "-A") rules.push(text);
        else rules.unshift(text);
        return ok();
      case "-C":
        return rules?.includes(text) ? ok() : missing;
      case "-D": {
        const at = rules?.indexOf(text) ?? -1;
        if (at < 0) return missing;
        rules?.splice(at, 1);
        return ok();
      }
      default:
        return { code: 2, stdout: "", stderr: `unknown ${op}` };
    }
  };
  return { runner, calls, state };
}

const DENY = "-m conntrack ! --ctstate RELATED,ESTABLISHED -j DROP";
const INGRESS = [{ port: 8080, disableTLS: false }];

describe("setUpInterception (fake iptables)", () => {
  it("writes both families' nat rules before it touches the default-deny rule, with -w on every call", async () => {
    const fake = fakeIptables({ iptables: [DENY], ip6tables: [DENY] });
    const report = await setUpInterception({ ingress: INGRESS, runner: fake.runner });
    const lastNatWrite = fake.calls.findLastIndex((c) => c.includes("-t nat") && !c.includes(" -S "));
    const firstDeny = fake.calls.findIndex((c) => c.includes("INPUT"));
    expect(lastNatWrite).toBeGreaterThan(0);
    expect(firstDeny).toBeGreaterThan(lastNatWrite);
    expect(fake.calls.slice(firstDeny)).toEqual([
      `iptables -w -t filter -C INPUT ${DENY}`,
      `iptables -w -t filter -D INPUT ${DENY}`,
      `iptables -w -t filter -C INPUT ${DENY}`,
      `ip6tables -w -t filter -C INPUT ${DENY}`,
      `ip6tables -w -t filter -D INPUT ${DENY}`,
      `ip6tables -w -t filter -C INPUT ${DENY}`,
    ]);
    expect(report.defaultDenyRemoved).toEqual([
      { family: 4, removed: true },
      { family: 6, removed: true },
    ]);
    // The jump is added after its chains are filled, so a half-built chain is never live.
    const jump = fake.calls.indexOf("iptables -w -t nat -A PREROUTING -p tcp -j CONTRAST_INBOUND");
    const lastChainRule = fake.calls.findLastIndex((c) => c.startsWith("iptables -w -t nat -A CONTRAST_"));
    expect(jump).toBeGreaterThan(lastChainRule);
  });

  it("a second run only reads: no flush, no append, no delete", async () => {
    const fake = fakeIptables({ iptables: [DENY] });
    await setUpInterception({ ingress: INGRESS, runner: fake.runner });
    fake.calls.length = 0;
    const report = await setUpInterception({ ingress: INGRESS, runner: fake.runner });
    expect(fake.calls.filter((c) => / -[NFAIDX] /.test(c))).toEqual([]);
    expect(report.families.every((f) => !f.rewritten && !f.jumpAdded)).toBe(true);
  });

  it("rewrites live chains behind a guard that sends everything to mTLS, and clears a guard left behind", async () => {
    const fake = fakeIptables();
    await setUpInterception({ ingress: INGRESS, runner: fake.runner, families: [4] });
    fake.calls.length = 0;
    const guard = "! -i lo -p tcp -j REDIRECT --to-ports 15006";
    await setUpInterception({ ingress: [{ port: 9090, disableTLS: true }], runner: fake.runner, families: [4] });
    const inserted = fake.calls.indexOf(`iptables -w -t nat -I PREROUTING 1 ${guard}`);
    const firstFlush = fake.calls.findIndex((c) => c.includes(" -F "));
    const lastAppend = fake.calls.findLastIndex((c) => c.includes(" -A CONTRAST_"));
    const deleted = fake.calls.indexOf(`iptables -w -t nat -D PREROUTING ${guard}`);
    expect(inserted).toBeGreaterThanOrEqual(0);
    expect(inserted).toBeLessThan(firstFlush);
    expect(deleted).toBeGreaterThan(lastAppend);
    expect(fake.state.get("iptables/nat/PREROUTING")).toEqual(["-p tcp -j CONTRAST_INBOUND"]);

    // A run that died mid-rewrite left its guard: the next run takes it away even with nothing to rewrite.
    fake.state.get("iptables/nat/PREROUTING")?.unshift(guard);
    const report = await setUpInterception({
      ingress: [{ port: 9090, disableTLS: true }],
      runner: fake.runner,
      families: [4],
    });
    expect(report.families[0]?.rewritten).toBe(false);
    expect(fake.state.get("iptables/nat/PREROUTING")).toEqual(["-p tcp -j CONTRAST_INBOUND"]);
  });

  it("leaves the default-deny rule when a nat step fails, or when told to", async () => {
    const fake = fakeIptables({ iptables: [DENY], ip6tables: [DENY] });
    const failing: IptablesRunner = (binary, args) =>
      binary === "ip6tables" && args.includes("-N")
        ? Promise.resolve({ code: 3, stdout: "", stderr: "can't initialize ip6tables table `nat'" })
        : fake.runner(binary, args);
    await expectCodeAsync(() => setUpInterception({ ingress: INGRESS, runner: failing }), "NETFILTER_COMMAND_FAILED");
    expect(fake.calls.some((c) => c.includes(" -D INPUT"))).toBe(false);
    await setUpInterception({ ingress: INGRESS, runner: fake.runner, removeDefaultDeny: false });
    expect(fake.calls.some((c) => c.includes(" -D INPUT"))).toBe(false);
  });

  it("a bad plan touches nothing", async () => {
    const fake = fakeIptables();
    await expectCodeAsync(
      () => setUpInterception({ ingress: [{ port: 70000, disableTLS: true }], runner: fake.runner }),
      "NETFILTER_PLAN_INVALID",
    );
    expect(fake.calls).toEqual([]);
  });

  it("maps iptables' permission refusal to NETFILTER_PERMISSION_DENIED", async () => {
    const denied: IptablesRunner = async () => ({
      code: 4,
      stdout: "",
      stderr:
        "iptables v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)",
    });
    await expectCodeAsync(() => removeDefaultDeny(denied), "NETFILTER_PERMISSION_DENIED");
  });

  it("installDefaultDeny inserts once at the top; removeDefaultDeny removes every copy", async () => {
    const fake = fakeIptables({ iptables: ["-p tcp -j ACCEPT", DENY, DENY] });
    await installDefaultDeny(fake.runner, [4]);
    expect(fake.state.get("iptables/filter/INPUT")).toEqual(["-p tcp -j ACCEPT", DENY, DENY]);
    const fresh = fakeIptables({ iptables: ["-p tcp -j ACCEPT"] });
    await installDefaultDeny(fresh.runner, [4]);
    expect(fresh.state.get("iptables/filter/INPUT")).toEqual([DENY, "-p tcp -j ACCEPT"]);
    expect(await removeDefaultDeny(fake.runner, [4])).toBe(true);
    expect(fake.state.get("iptables/filter/INPUT")).toEqual(["-p tcp -j ACCEPT"]);
    expect(await removeDefaultDeny(fake.runner, [4])).toBe(false);
  });
});
