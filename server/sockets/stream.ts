// The byte-stream protocol shared by the serial console, the SSH terminal and the log follow.
// Endpoints: /ws/serial/<vm>, /ws/ssh/<vm>?session=<id>&cols=&rows=, /ws/logs/<vm>?offset=<byte>.
//
// Binary frames carry bytes, in both directions (client → server: keyboard input, UTF-8).
// Text frames carry JSON control messages:
//   client → server:
//     {"t":"ack","n":<bytes>}             the client has consumed (rendered) n more bytes
//     {"t":"resize","cols":n,"rows":n}    the terminal's size (ssh; clamped to 2..1000 × 2..500)
//     {"t":"input","d":"<text>"}          input as text (same as a binary frame of its UTF-8)
//   server → client:
//     {"t":"info","text":...}             a note for the user (e.g. "reattached")
//     {"t":"exit","code"?:n,"reason"?:s}  the producer ended (ssh exited, serial port closed); the
//                                         socket then closes with 1000. Reconnecting starts afresh.
//     {"t":"offset","n":<byte>}           logs: the file offset just after the last binary frame
//                                         (reconnect with ?offset=n to resume without gaps or repeats)
//     {"t":"reset"}                       logs: the file shrank or was recreated; it restarts at 0
// Close codes: 1000 after "exit"; 1013 the producer is not ready yet (retry soon); 44xx are final
// until something changes — 4400 bad request, 4401 no session cookie, 4404 no such VM, 4409 not now
// (the VM is not running, or cannot be reached yet), 4429 too many sessions. The reason is a sentence
// for people; clients show it and wait for a change (e.g. the VM's status event) before trying again.
// Flow control: the producer pauses while any attached client has more than HIGH unacknowledged bytes,
// and resumes below LOW. Nothing is dropped; a client that never acks stalls only the stream it is
// attached to (and so the other tabs on that same stream), never the panel.
// Attaching (and re-attaching) replays a bounded tail of recent output (serial, ssh; not logs).
// Frames: reads that come back to back (a pty delivers at most ~4 KiB per read, one read per turn of the
// event loop) are coalesced into one binary frame of up to MAX_FRAME bytes: the frame goes out at the end of
// the first loop turn whose poll brought no more bytes (setImmediate, no timer: a lone keystroke's echo waits
// one idle loop turn, microseconds; a stream that never pauses is sent every MAX_HOLD_MS). Flow control
// counts bytes as they are written, not sent.
import type { WebSocket } from 'ws';
import { leadingContinuations } from '../lab/lab.ts';

export const HIGH_WATER = 1 << 20;
export const LOW_WATER = 256 << 10;
/** Reads are coalesced into frames of at most this many bytes (a read larger than that goes alone). */
export const MAX_FRAME = 64 << 10;
/** …and held at most this long (ms) while more keep coming back to back. */
export const MAX_HOLD_MS = 4;

export interface Producer { pause(): void; resume(): void }

/** A bounded tail of the output, replayed to a client that attaches or reconnects. */
export class Tail {
  private chunks: Buffer[] = [];
  private size = 0;
  private dropped = false;
  constructor(private max = 256 << 10) {}
  push(b: Buffer): void {
    this.chunks.push(b);
    this.size += b.length;
    while (this.size > this.max && this.chunks.length > 1) { this.size -= this.chunks.shift()!.length; this.dropped = true; }
  }
  /** The tail; when older chunks were dropped it starts on a UTF-8 character boundary (no half character first). */
  get(): Buffer {
    const b = Buffer.concat(this.chunks);
    return b.subarray(this.dropped ? leadingContinuations(b) : 0);
  }
}

interface Client { ws: WebSocket; unacked: number }

type Control = { t?: string; n?: number; cols?: number; rows?: number; d?: string };

/** Fans one producer's bytes out to many sockets, with ack-based flow control. */
export class Fanout {
  private clients = new Set<Client>();
  private paused = false;
  /** Bytes written in this turn of the event loop, not sent yet (see flush). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private flushQueued = false;
  /** Bytes arrived since the queued flush last looked: the producer may have more right behind them. */
  private fresh = false;
  /** When the oldest pending byte was written (performance.now()). */
  private pendingSince = 0;
  readonly tail: Tail;
  onInput: ((data: Buffer) => void) | null = null;
  onResize: ((cols: number, rows: number) => void) | null = null;
  onEmpty: (() => void) | null = null;

  constructor(private producer: Producer, tailBytes = 256 << 10) { this.tail = new Tail(tailBytes); }

  get size(): number { return this.clients.size; }

  attach(ws: WebSocket, replay = true): void {
    this.flush(); // what the others have not been sent yet is in the tail: it must not reach the newcomer twice
    const c: Client = { ws, unacked: 0 };
    this.clients.add(c);
    if (replay) { const t = this.tail.get(); if (t.length) { c.unacked += t.length; this.send(c, t); } }
    ws.on('message', (data, isBinary) => {
      const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      if (isBinary) { this.onInput?.(buf); return; }
      let msg: Control;
      try { msg = JSON.parse(buf.toString('utf8')); } catch { return; }
      if (msg.t === 'ack' && typeof msg.n === 'number' && msg.n > 0) { c.unacked = Math.max(0, c.unacked - msg.n); this.balance(); }
      else if (msg.t === 'resize' && Number.isInteger(msg.cols) && Number.isInteger(msg.rows)) {
        const cols = Math.min(Math.max(msg.cols!, 2), 1000); const rows = Math.min(Math.max(msg.rows!, 2), 500);
        this.onResize?.(cols, rows);
      } else if (msg.t === 'input' && typeof msg.d === 'string') {
        this.onInput?.(Buffer.from(msg.d, 'utf8'));
      }
    });
    ws.on('close', () => { this.clients.delete(c); this.balance(); if (!this.clients.size) this.onEmpty?.(); });
  }

  /** The producer's bytes: counted against every client now, sent at the end of this turn of the event loop. */
  write(b: Buffer): void {
    if (!b.length) return;
    this.tail.push(b);
    for (const c of this.clients) if (c.ws.readyState === c.ws.OPEN) c.unacked += b.length;
    if (this.pendingBytes + b.length > MAX_FRAME) this.flush();
    if (!this.pendingBytes) this.pendingSince = performance.now();
    this.pending.push(b);
    this.pendingBytes += b.length;
    this.fresh = true;
    if (!this.flushQueued) { this.flushQueued = true; setImmediate(this.flushWhenQuiet); }
    this.balance();
  }

  /**
   * Runs after each poll phase while bytes wait: if that poll (or the turn that queued it) brought more, look
   * again after the next poll — an immediate queued here runs in the next loop turn, whose poll does not
   * block — else send. So back-to-back reads become one frame, and a lone read waits one idle turn; none
   * waits more than MAX_HOLD_MS.
   */
  private readonly flushWhenQuiet = (): void => {
    if (this.fresh && this.pendingBytes && performance.now() - this.pendingSince < MAX_HOLD_MS) {
      this.fresh = false;
      setImmediate(this.flushWhenQuiet);
      return;
    }
    this.flushQueued = false;
    this.fresh = false;
    this.flush();
  };

  /** Send what was written and not sent yet, as one frame. Control messages and closes flush first (order). */
  flush(): void {
    if (!this.pendingBytes) return;
    const b = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    for (const c of this.clients) this.send(c, b);
  }

  info(text: string): void { this.control({ t: 'info', text }); }

  /** A control message to one socket only. */
  tell(ws: WebSocket, msg: Record<string, unknown>): void {
    this.flush();
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
  }

  control(msg: Record<string, unknown>): void {
    this.flush();
    const s = JSON.stringify(msg);
    for (const c of this.clients) if (c.ws.readyState === c.ws.OPEN) c.ws.send(s);
  }

  closeAll(code: number, reason: string): void {
    this.flush();
    for (const c of this.clients) c.ws.close(code, reason);
  }

  private send(c: Client, b: Buffer): void {
    if (c.ws.readyState !== c.ws.OPEN) return;
    c.ws.send(b, { binary: true });
  }

  private balance(): void {
    let worst = 0;
    for (const c of this.clients) if (c.unacked > worst) worst = c.unacked;
    if (!this.paused && worst > HIGH_WATER) { this.paused = true; this.producer.pause(); }
    else if (this.paused && worst < LOW_WATER) { this.paused = false; this.producer.resume(); }
  }
}
