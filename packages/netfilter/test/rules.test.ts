import { expectCode, fuzzRuns } from "@contrast/testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_DENY_RULE, planInterception, ruleText } from "../src/index.js";

describe("planInterception", () => {
  it("plans upstream's chains with REDIRECT: loopback untouched, passthrough, TLS port, mTLS default", () => {
    const plan = planInterception({
      ingress: [
        { port: 8080, disableTLS: false },
        { port: 9090, disableTLS: true },
      ],
      proxyPorts: { mtls: 15006, tls: 15007 },
      family: 4,
    });
    expect(plan.binary).toBe("iptables");
    expect(plan.chains).toEqual(["CONTRAST_INBOUND", "CONTRAST_IN_REDIRECT"]);
    expect(plan.rules.map(ruleText)).toEqual([
      "-A CONTRAST_INBOUND -i lo -p tcp -j RETURN",
      "-A CONTRAST_INBOUND -p tcp -j CONTRAST_IN_REDIRECT",
      "-A CONTRAST_IN_REDIRECT -p tcp -m tcp --dport 8080 -j REDIRECT --to-ports 15007",
      "-A CONTRAST_IN_REDIRECT -p tcp -m tcp --dport 9090 -j RETURN",
      "-A CONTRAST_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006",
    ]);
    expect(ruleText(plan.jump)).toBe("-A PREROUTING -p tcp -j CONTRAST_INBOUND");
    expect(planInterception({ ingress: [], family: 6 }).binary).toBe("ip6tables");
  });

  it("the default-deny rule is the pod VM image's", () => {
    expect(ruleText(DEFAULT_DENY_RULE)).toBe("-A INPUT -m conntrack ! --ctstate RELATED,ESTABLISHED -j DROP");
    expect(DEFAULT_DENY_RULE.table).toBe("filter");
  });

  it("refuses bad ports, a port twice and equal proxy ports", () => {
    expectCode(
      () => planInterception({ ingress: [{ port: 0, disableTLS: true }], family: 4 }),
      "NETFILTER_PLAN_INVALID",
    );
    expectCode(
      () => planInterception({ ingress: [{ port: 65536, disableTLS: true }], family: 4 }),
      "NETFILTER_PLAN_INVALID",
    );
    expectCode(
      () => planInterception({ ingress: [{ port: 1.5, disableTLS: true }], family: 4 }),
      "NETFILTER_PLAN_INVALID",
    );
    expectCode(
      () =>
        planInterception({
          ingress: [
            { port: 80, disableTLS: true },
            { port: 80, disableTLS: false },
          ],
          family: 4,
        }),
      "NETFILTER_PLAN_INVALID",
    );
    expectCode(
      () => planInterception({ ingress: [], proxyPorts: { mtls: 1, tls: 1 }, family: 6 }),
      "NETFILTER_PLAN_INVALID",
    );
  });

  it("every listed port gets exactly one rule before the default, and nothing else varies (property)", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.record({ port: fc.integer({ min: 1, max: 65535 }), disableTLS: fc.boolean() }), {
          selector: (e) => e.port,
          maxLength: 20,
        }),
        fc.constantFrom<4 | 6>(4, 6),
        (ingress, family) => {
          const plan = planInterception({ ingress, family });
          const redirect = plan.rules.filter((r) => r.chain === "CONTRAST_IN_REDIRECT");
          expect(redirect).toHaveLength(ingress.length + 1);
          ingress.forEach((entry, i) => {
            const spec = redirect[i]?.spec ?? [];
            expect(spec.slice(0, 6)).toEqual(["-p", "tcp", "-m", "tcp", "--dport", String(entry.port)]);
            expect(spec.slice(6)).toEqual(
              entry.disableTLS ? ["-j", "RETURN"] : ["-j", "REDIRECT", "--to-ports", "15007"],
            );
          });
          expect(redirect.at(-1)?.spec).toEqual(["-p", "tcp", "-j", "REDIRECT", "--to-ports", "15006"]);
        },
      ),
      { numRuns: fuzzRuns(200) },
    );
  });
});
