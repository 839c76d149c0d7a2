// The console log as lines, for the log view: bytes in (any chunking), printable lines out, a bounded
// number kept (the oldest are dropped and counted), boot markers found, search matches kept up to date.
// Pure (no DOM, no React): log-model.test.ts.

/** The line the server's start() appends to the log before each boot. */
export const BOOT_MARKER = /^=== pvmlab: power on (\S+) ===$/;

/** CSI, OSC, and two-byte escape sequences; what is left of control characters (but tab) goes too. */
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[PX^_][^\x1b]*\x1b\\|\x1b[@-Z\\-_]|\x1b[ -/]*[0-~]/g;

/** Text without ANSI escape sequences (CSI, OSC, DCS/PM/APC, two-character escapes). */
export function stripAnsi(s: string): string { return s.replace(ANSI, ''); }
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/g;
/** A line longer than this is cut into pieces (a log without newlines must not become one huge row). */
export const MAX_LINE = 16_384;

/** What a terminal would leave visible of one raw line: escapes gone, carriage returns overwrite. */
const NEEDS_CLEANING = /[\x00-\x08\x0b-\x1f\x7f]/;

export function cleanLine(raw: string): string {
  if (!NEEDS_CLEANING.test(raw)) return raw; // most console lines: nothing to do
  let s = raw.replace(ANSI, '');
  if (s.endsWith('\r')) s = s.replace(/\r+$/, '');
  const cr = s.lastIndexOf('\r');
  if (cr >= 0) {
    // "progress 10%\rprogress 20%": the later text overwrites the earlier from column 0.
    const parts = s.split('\r');
    let out = '';
    for (const p of parts) out = p + out.slice(p.length);
    s = out;
  }
  return s.replace(CONTROL, '');
}

export interface Boot { line: number; at: string }

export class LogModel {
  /** Clean lines; lines[i] is absolute line number base + i. */
  lines: string[] = [];
  /** How many lines were dropped from the front to stay under maxLines. */
  base = 0;
  /** The unfinished last line, raw. */
  partial = '';
  boots: Boot[] = [];
  longest = 0;
  private decoder = new TextDecoder('utf-8');
  private query = '';
  private matchList: number[] = [];

  constructor(readonly maxLines = 200_000) {}

  /** Absolute number of lines including the unfinished one. */
  get total(): number { return this.base + this.lines.length + (this.partial ? 1 : 0); }
  get end(): number { return this.base + this.lines.length; }

  /** The display text of an absolute line (the unfinished one included), or undefined. */
  line(n: number): string | undefined {
    const i = n - this.base;
    if (i >= 0 && i < this.lines.length) return this.lines[i];
    if (i === this.lines.length && this.partial) return cleanLine(this.partial);
    return undefined;
  }

  /** Bytes from the stream. Returns the boot markers completed by them. */
  push(bytes: Uint8Array): Boot[] {
    return this.pushText(this.decoder.decode(bytes, { stream: true }));
  }

  pushText(text: string): Boot[] {
    const found: Boot[] = [];
    let start = 0;
    const added: string[] = [];
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      added.push(this.partial + text.slice(start, nl));
      this.partial = '';
      start = nl + 1;
    }
    this.partial += text.slice(start);
    while (this.partial.length > MAX_LINE) {
      added.push(this.partial.slice(0, MAX_LINE));
      this.partial = this.partial.slice(MAX_LINE);
    }
    for (const raw of added) {
      const clean = cleanLine(raw);
      const n = this.base + this.lines.length;
      this.lines.push(clean);
      if (clean.length > this.longest) this.longest = clean.length;
      const m = BOOT_MARKER.exec(clean);
      if (m) { const b = { line: n, at: m[1] }; this.boots.push(b); found.push(b); }
      if (this.query && clean.toLowerCase().includes(this.query)) this.matchList.push(n);
    }
    this.trim();
    return found;
  }

  /** Forget everything (the file was truncated or recreated). */
  clear(): void {
    this.lines = [];
    this.base = 0;
    this.partial = '';
    this.boots = [];
    this.longest = 0;
    this.matchList = [];
    this.decoder = new TextDecoder('utf-8');
  }

  /** Drop the oldest lines, in batches, beyond maxLines. */
  private trim(): void {
    const excess = this.lines.length - this.maxLines;
    if (excess <= 0) return;
    const drop = Math.max(excess, Math.min(this.maxLines >> 4, this.lines.length));
    this.lines.splice(0, drop);
    this.base += drop;
    this.boots = this.boots.filter((b) => b.line >= this.base);
    if (this.matchList.length && this.matchList[0] < this.base) this.matchList = this.matchList.filter((n) => n >= this.base);
  }

  /** Set the search text (case-insensitive substring; '' clears). */
  search(q: string): void {
    const query = q.toLowerCase();
    if (query === this.query) return;
    this.query = query;
    this.matchList = [];
    if (!query) return;
    for (let i = 0; i < this.lines.length; i++) if (this.lines[i].toLowerCase().includes(query)) this.matchList.push(this.base + i);
  }

  /** Absolute line numbers that match the search, in order (the unfinished line included). */
  matches(): number[] {
    if (this.query && this.partial && cleanLine(this.partial).toLowerCase().includes(this.query)) return [...this.matchList, this.end];
    return this.matchList;
  }
}
