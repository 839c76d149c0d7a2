// The browser side of the byte-stream protocol (server/sockets/stream.ts has the full description):
// binary frames are bytes, text frames are JSON control messages. This client acks bytes only once the
// consumer says it processed them (for xterm: in term.write's callback), sends resizes, and reconnects
// by itself with backoff when the connection drops — but not after a 44xx close (a final answer such as
// "the VM is stopped": its reason is shown) nor after the producer said it ended ("exit"), unless asked.
// No React here: components wrap it (see use-stream-state.ts).
import { keyProtocols } from '../session-key';

export type StreamPhase = 'connecting' | 'live' | 'reconnecting' | 'closed';

export interface StreamState {
  phase: StreamPhase;
  /** Why it is closed or reconnecting: a sentence for people. */
  reason?: string;
  /** The close code behind `reason`, when there is one. */
  code?: number;
  /** Reconnecting: when the next attempt starts (Date.now() based). */
  retryAt?: number;
  /** How many attempts in a row failed. */
  attempt: number;
}

export interface ControlMessage { t: string; [k: string]: unknown }

export interface StreamSocketOptions {
  /** The path (and query) under the panel, e.g. `/ws/serial/vm1`; evaluated at every (re)connect. */
  path: () => string;
  /** Bytes arrived. Call `done()` once they are consumed: only then are they acknowledged. */
  onData: (bytes: Uint8Array, done: () => void) => void;
  /** Any control message from the server ("info", "exit", "offset", "reset", …). */
  onControl?: (msg: ControlMessage) => void;
  /** The socket opened; `again` is true for every connection after the first. */
  onOpen?: (again: boolean) => void;
  onState?: (s: StreamState) => void;
  /** After the server's "exit", reconnect instead of closing? (default: no). */
  reconnectAfterExit?: (msg: ControlMessage) => boolean;
}

const ACK_BYTES = 64 << 10;
const ACK_DELAY_MS = 15;
const BACKOFF_MS = [250, 500, 1000, 2000, 4000, 8000];
const BACKOFF_MAX_MS = 10_000;
/** A connection that stayed up this long resets the backoff. */
const STABLE_MS = 5_000;

function closeReason(code: number, reason: string): string {
  if (reason) return reason;
  if (code === 1006) return 'the connection to the panel dropped';
  if (code === 1001) return 'the panel is going away';
  return `connection closed (code ${code})`;
}

export class StreamSocket {
  private ws: WebSocket | null = null;
  private opened = 0;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private ackTimer: ReturnType<typeof setTimeout> | null = null;
  private pendingAck = 0;
  private stopped = false;
  private exited: ControlMessage | null = null;
  private liveSince = 0;
  private enc = new TextEncoder();
  private _state: StreamState = { phase: 'connecting', attempt: 0 };

  constructor(private opts: StreamSocketOptions) {
    this.connect();
  }

  get state(): StreamState { return this._state; }
  get live(): boolean { return this._state.phase === 'live'; }

  /** Keyboard input (or any bytes) to the producer. Dropped while not live. */
  send(data: string | Uint8Array): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(typeof data === 'string' ? this.enc.encode(data) : data);
    return true;
  }

  resize(cols: number, rows: number): void {
    this.control({ t: 'resize', cols, rows });
  }

  /** Connect again now (e.g. the VM just started), whatever the state, unless closed for good. */
  reconnectNow(): void {
    if (this.stopped) return;
    if (this._state.phase === 'live' || this._state.phase === 'connecting') return;
    this.attempt = 0;
    this.connect();
  }

  /** Close for good (the component unmounts). */
  close(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.flushAck();
    const ws = this.ws;
    this.ws = null;
    if (ws) { this.detach(ws); ws.close(1000, 'closed by the page'); }
    this.setState({ phase: 'closed', reason: 'closed', attempt: 0 });
  }

  private control(msg: ControlMessage): void {
    const ws = this.ws;
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  }

  private setState(s: StreamState): void {
    this._state = s;
    this.opts.onState?.(s);
  }

  private detach(ws: WebSocket): void {
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
  }

  private connect(): void {
    if (this.stopped) return;
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    if (this.ws) { const old = this.ws; this.ws = null; this.detach(old); old.close(); }
    this.exited = null;
    this.pendingAck = 0;
    if (this._state.phase !== 'reconnecting') this.setState({ phase: 'connecting', attempt: this.attempt });
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${proto}://${location.host}${this.opts.path()}`, keyProtocols());
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => {
      const again = this.opened > 0;
      this.opened++;
      this.liveSince = Date.now();
      this.setState({ phase: 'live', attempt: this.attempt });
      this.opts.onOpen?.(again);
    };
    ws.onmessage = (ev: MessageEvent) => {
      if (ws !== this.ws) return;
      if (typeof ev.data === 'string') {
        let msg: ControlMessage;
        try { msg = JSON.parse(ev.data) as ControlMessage; } catch { return; }
        if (!msg || typeof msg.t !== 'string') return;
        if (msg.t === 'exit') this.exited = msg;
        this.opts.onControl?.(msg);
        return;
      }
      const bytes = new Uint8Array(ev.data as ArrayBuffer);
      const n = bytes.length;
      let acked = false;
      this.opts.onData(bytes, () => {
        if (acked || ws !== this.ws) return;
        acked = true;
        this.ack(n);
      });
    };
    ws.onclose = (ev: CloseEvent) => {
      if (ws !== this.ws) return;
      this.ws = null;
      if (this.ackTimer) { clearTimeout(this.ackTimer); this.ackTimer = null; }
      if (this.stopped) return;
      if (Date.now() - this.liveSince > STABLE_MS && this.liveSince) this.attempt = 0;
      this.liveSince = 0;
      const exit = this.exited;
      if (exit && !(this.opts.reconnectAfterExit?.(exit) ?? false)) {
        const why = typeof exit.reason === 'string' ? exit.reason
          : typeof exit.code === 'number' ? `the session ended (exit code ${exit.code})` : 'the session ended';
        this.setState({ phase: 'closed', reason: why, code: ev.code, attempt: this.attempt });
        return;
      }
      if (ev.code >= 4400 && ev.code <= 4499) {
        this.setState({ phase: 'closed', reason: closeReason(ev.code, ev.reason), code: ev.code, attempt: this.attempt });
        return;
      }
      const base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
      const delay = Math.min(BACKOFF_MAX_MS, Math.round(base * (0.8 + Math.random() * 0.4)));
      this.attempt++;
      this.setState({ phase: 'reconnecting', reason: exit ? 'the session ended; starting a new one' : closeReason(ev.code, ev.reason),
        code: ev.code, retryAt: Date.now() + delay, attempt: this.attempt });
      this.timer = setTimeout(() => { this.timer = null; this.connect(); }, delay);
    };
    ws.onerror = () => { /* onclose follows with the code */ };
  }

  private ack(n: number): void {
    this.pendingAck += n;
    if (this.pendingAck >= ACK_BYTES) { this.flushAck(); return; }
    this.ackTimer ??= setTimeout(() => { this.ackTimer = null; this.flushAck(); }, ACK_DELAY_MS);
  }

  private flushAck(): void {
    if (this.ackTimer) { clearTimeout(this.ackTimer); this.ackTimer = null; }
    if (this.pendingAck > 0) { this.control({ t: 'ack', n: this.pendingAck }); this.pendingAck = 0; }
  }
}
