import { ContrastError } from "@contrast/core";
import type { Output } from "../output.js";

/** One step as the JSON document lists it. */
export interface StepRecord {
  /** A stable key scripts and the e2e test match on, e.g. "generate", "tamper". */
  readonly step: string;
  readonly title: string;
  readonly ok: boolean;
  readonly seconds: number;
  /** What the step found, e.g. the policy hashes, the denial reasons, the pod IPs. */
  readonly details: Readonly<Record<string, unknown>>;
  readonly error?: ReturnType<ContrastError["toJSON"]>;
}

/** What a step's body hands back: its one-line result and its details. */
export interface StepResult {
  readonly line: string;
  /** Indented lines under the ✔ line (a denial's reasons, how to talk to the deployment). */
  readonly more?: readonly string[];
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * Narrates the demo: each step prints `✔ <what happened>` when it is done, or `✖ <step>` with the
 * error's code and hint when it fails; a spinner line says what is going on while it runs (on a
 * terminal only). Every step is also recorded, with its wall time, for `--output json`.
 */
export class Narrator {
  readonly steps: StepRecord[] = [];
  private readonly started: number;

  private readonly progress: boolean;

  constructor(
    private readonly out: Output,
    options: { readonly progress?: boolean } = {},
    private readonly now: () => number = Date.now,
  ) {
    this.started = now();
    this.progress = options.progress !== false;
  }

  /** Runs one step; its failure is recorded, printed and rethrown (the demo stops at the first). */
  async step(step: string, title: string, body: () => Promise<StepResult>): Promise<StepResult> {
    const t0 = this.now();
    if (this.progress) this.out.progress(`… ${title}`);
    try {
      const result = await body();
      const seconds = (this.now() - t0) / 1000;
      this.out.progress(undefined);
      this.out.stepDone(true, `${result.line} ${this.out.style("dim", `(${seconds.toFixed(1)} s)`)}`);
      for (const line of result.more ?? []) this.out.info(`    ${line}`);
      this.steps.push({ step, title, ok: true, seconds, details: result.details ?? {} });
      return result;
    } catch (e) {
      const seconds = (this.now() - t0) / 1000;
      this.out.progress(undefined);
      const err = ContrastError.from(e);
      this.out.stepDone(false, `${title}: failed`);
      this.steps.push({
        step,
        title,
        ok: false,
        seconds,
        details: {},
        error: err.toJSON(),
      });
      throw err;
    }
  }

  /** A line that belongs to no step (the demo's heading, the re-exec notice). */
  note(line: string): void {
    this.out.info(line);
  }

  /** Seconds since the narrator was made: the demo's wall time. */
  get elapsedSeconds(): number {
    return (this.now() - this.started) / 1000;
  }
}
