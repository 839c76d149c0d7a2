// Following a VM's console log for markers (`pvmlab up` waits for "pvmlab: booting <name>", then
// "PVMLAB-NET ip="): each poll reads only the bytes appended since the last one (consolelog.ts readLogText,
// on character boundaries) and each wait scans only text it has not scanned yet.
import type { LogText } from '../consolelog.ts';

/** How much text is kept (the tail) for the markers and the "last console lines" of an error. */
const KEEP_CHARS = 1 << 20;
/** Re-scanned before new text, so a marker split across two reads still matches. */
const OVERLAP = 1024;

export class LogFollower {
  private text = '';
  /** Absolute position (chars since the start offset) of text[0]. */
  private base = 0;
  private scanned = 0;

  /** `read(offset, limit)`: a LogText from that byte (lab.vms.log); `offset`: the byte to start at (the log's size at power-on). */
  constructor(private read: (offset: number, limit: number) => LogText, private offset: number) {}

  /** Read what was appended since the last poll; returns how many bytes that was. */
  poll(): number {
    const from = this.offset;
    for (;;) {
      const r = this.read(this.offset, 256 * 1024);
      if (r.offset === this.offset) break;
      this.text += r.data;
      this.offset = r.offset;
      if (r.offset >= r.size) break;
    }
    if (this.text.length > KEEP_CHARS) {
      const drop = this.text.length - KEEP_CHARS;
      this.text = this.text.slice(drop);
      this.base += drop;
    }
    return this.offset - from;
  }

  /** Start a new wait: its first find() scans all the text kept since the start offset. */
  rewind(): void { this.scanned = this.base; }

  /** Does `re` match the text not yet scanned by this wait (plus a small overlap)? */
  find(re: RegExp): boolean {
    const from = Math.max(this.base, this.scanned - OVERLAP) - this.base;
    this.scanned = this.base + this.text.length;
    return re.test(this.text.slice(from));
  }

  /** The last n lines, for errors. */
  lastLines(n: number): string { return this.text.split('\n').slice(-n).join('\n'); }

  /** The byte offset read up to. */
  get position(): number { return this.offset; }
}
