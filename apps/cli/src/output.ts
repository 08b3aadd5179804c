import type { ContrastError } from "@contrast/core";

export type OutputFormat = "text" | "json";

export interface Stream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
}

export interface OutputOptions {
  readonly format: OutputFormat;
  readonly stdout: Stream;
  readonly stderr: Stream;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** A warning as the JSON document lists it: its code when it has one, the message, any details. */
export interface Warning {
  readonly code?: string;
  readonly message: string;
  readonly [detail: string]: unknown;
}

type Style = "green" | "red" | "yellow" | "cyan" | "dim" | "bold";
const SGR: Record<Style, [number, number]> = {
  green: [32, 39],
  red: [31, 39],
  yellow: [33, 39],
  cyan: [36, 39],
  dim: [2, 22],
  bold: [1, 22],
};

/**
 * Every command prints through this one layer. On a terminal: symbols (✔ ✖ !) and colour. When
 * piped: the same lines, plain. With `--output json`: nothing but one JSON document on stdout,
 * so scripts can parse it; human lines are suppressed, warnings are collected into the document.
 */
export class Output {
  readonly format: OutputFormat;
  private readonly stdout: Stream;
  private readonly stderr: Stream;
  private readonly fancy: boolean;
  private readonly color: boolean;
  private readonly collected: Warning[] = [];
  private progressShown = false;

  constructor(options: OutputOptions) {
    const env = options.env ?? {};
    this.format = options.format;
    this.stdout = options.stdout;
    this.stderr = options.stderr;
    this.fancy = options.stdout.isTTY === true;
    this.color =
      env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0"
        ? true
        : this.fancy && env.NO_COLOR === undefined && env.TERM !== "dumb";
  }

  get json(): boolean {
    return this.format === "json";
  }

  /**
   * A status line that rewrites itself (download progress) on a terminal's stderr; nothing when
   * stderr is not a terminal or the output is JSON. `undefined` clears the line.
   */
  progress(line: string | undefined): void {
    if (this.json || this.stderr.isTTY !== true) return;
    if (line === undefined && !this.progressShown) return;
    this.progressShown = line !== undefined;
    this.stderr.write(line === undefined ? "\r\x1b[2K" : `\r\x1b[2K${line}`);
  }

  style(s: Style, text: string): string {
    if (!this.color) return text;
    const [on, off] = SGR[s];
    return `\x1b[${on}m${text}\x1b[${off}m`;
  }

  /** A completed step: "✔ Manifest set successfully". */
  success(message: string): void {
    this.line(this.stdout, this.fancy ? `${this.style("green", "✔")} ${message}` : message);
  }

  /**
   * A step of a narration (`contrast demo`): marked ✔ or ✖ also when stdout is not a terminal,
   * since the marks are what the reader of a captured log looks for.
   */
  stepDone(ok: boolean, message: string): void {
    this.line(this.stdout, ok ? `${this.style("green", "✔")} ${message}` : `${this.style("red", "✖")} ${message}`);
  }

  /** Neutral information. */
  info(message: string): void {
    this.line(this.stdout, message);
  }

  /**
   * Something the user should read, on stderr so it survives `> file`, with its code in brackets.
   * In json mode it goes into the document's `warnings` instead, with the details.
   */
  warn(message: string, code?: string, details: Readonly<Record<string, unknown>> = {}): void {
    this.collected.push({ ...details, ...(code === undefined ? {} : { code }), message });
    const text = code === undefined ? message : `${message} [${code}]`;
    this.line(this.stderr, this.fancy ? `${this.style("yellow", "!")} ${text}` : `Warning: ${text}`);
  }

  /** The warnings so far, in order. */
  get warnings(): readonly Warning[] {
    return this.collected;
  }

  /** Text that is the command's product (a script, a document), written as is; nothing in json mode. */
  raw(text: string): void {
    if (!this.json) this.stdout.write(text);
  }

  /** A failed check that is reported, not thrown (e.g. one validation finding). */
  problem(message: string): void {
    this.line(this.stdout, this.fancy ? `${this.style("red", "✖")} ${message}` : message);
  }

  /**
   * The run's one JSON document (json mode only; docs/cli.md, "JSON output"): `ok`, then the
   * command's own fields, then every warning. The keys `ok`, `error` and `warnings` are the
   * envelope's; a command's fields never use them.
   */
  document(ok: boolean, fields: Readonly<Record<string, unknown>>): void {
    if (this.json) this.stdout.write(`${JSON.stringify({ ok, ...fields, warnings: this.collected }, null, 2)}\n`);
  }

  /** Renders a failure with its code and hint; in json mode as `{ "ok": false, "error", "warnings" }`. */
  error(err: ContrastError): void {
    if (this.json) {
      this.document(false, { error: err.toJSON() });
      return;
    }
    const head = this.fancy ? `${this.style("red", "✖")} ` : "";
    this.stderr.write(`${head}Error: ${err.message} ${this.style("dim", `[${err.code}]`)}\n`);
    if (err.hint) this.stderr.write(`  ${this.style("cyan", "Hint:")} ${err.hint}\n`);
  }

  private line(stream: Stream, text: string): void {
    if (!this.json) stream.write(`${text}\n`);
  }
}
