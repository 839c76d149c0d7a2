// Terminal clients in Node, without a browser: each server's own protocol, consuming at once. They make
// the server-side byte path measurable on its own (server CPU per MiB, frame sizes) — bench/terminal/byte-path.ts.
//   panel     /ws/ssh/<vm>: binary frames of bytes, JSON acks (server/sockets/stream.ts); acked as the
//             page acks (components/terminal/stream-socket.ts: every 64 KiB, or 15 ms after the first unacked byte)
//   ttyd-like /ws: ttyd's protocol (command byte + payload); no flow control needed by a client that keeps up
//   wetty     socket.io: 'data' events (text), 'input', 'resize', a 'commit' every 256 KiB (WeTTY's client)
import { createRequire } from 'node:module';
import path from 'node:path';
import { WebSocket } from 'ws';
import { keyProtocols, type PanelInfo } from '../../e2e/harness.ts';
import { MiB, VM, floodCommand, r2 } from './common.ts';

export interface NodeFlood { bytes: number; frames: number; seconds: number; mibPerSec: number; meanFrameBytes: number }

interface Wire {
  /** Send keyboard input. */
  input(s: string): void;
  close(): void;
}

/** Drive one session: wait for the shell prompt, run the flood command, count output bytes until the marker. */
async function drive(open: (onData: (s: string, bytes: number) => void, onClose: (why: string) => void) => Promise<Wire>, mib: number): Promise<NodeFlood> {
  let tail = '';
  let phase: 'prompt' | 'flood' | 'done' = 'prompt';
  let bytes = 0;
  let frames = 0;
  let t0 = 0;
  let t1 = 0;
  let closed = '';
  let wake: (() => void) | null = null;
  const wire = await open((s, n) => {
    if (phase === 'flood') { bytes += n; frames++; }
    if (s.includes('\x1b[6n')) wire.input('\x1b[1;15R'); // the shell asks where the cursor is: answer as a terminal does
    tail = (tail + s).slice(-128);
    if (phase === 'flood' && /(^|\n)FLOOD-2\r?\n/.test(tail)) { t1 = performance.now(); phase = 'done'; }
    wake?.();
  }, (why) => { closed = why; wake?.(); });
  const until = async (pred: () => boolean, ms: number, what: string) => {
    const end = performance.now() + ms;
    while (!pred()) {
      if (closed) throw new Error(`${phase === 'prompt' ? 'RETRY: ' : ''}closed (${closed}) waiting for ${what}; last: ${JSON.stringify(tail.slice(-100))}`);
      if (performance.now() > end) throw new Error(`timeout waiting for ${what}; last: ${JSON.stringify(tail.slice(-100))}`);
      await new Promise<void>((r) => { wake = r; setTimeout(r, 100); });
      wake = null;
    }
  };
  try {
    await new Promise((r) => setTimeout(r, 1000));
    wire.input('\r');
    await until(() => tail.includes(`${VM}:`) && /# (\x1b\[6n)?$/.test(tail), 90_000, 'the prompt');
    tail = '';
    phase = 'flood';
    t0 = performance.now();
    wire.input(`${floodCommand(mib)}\r`);
    await until(() => phase === 'done', 60 * 60_000, 'the flood marker');
  } finally {
    wire.close();
  }
  const seconds = (t1 - t0) / 1000;
  return { bytes, frames, seconds: r2(seconds), mibPerSec: r2(bytes / MiB / seconds), meanFrameBytes: Math.round(bytes / frames) };
}

/** The panel's SSH endpoint. */
export function panelFlood(panel: PanelInfo, cookie: string, mib: number): Promise<NodeFlood> {
  return drive((onData, onClose) => new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${panel.port}/ws/ssh/${VM}?session=bytepath${Date.now()}&cols=120&rows=40`, keyProtocols(panel),
      { headers: { Cookie: cookie, Origin: panel.baseURL } });
    const dec = new TextDecoder();
    let pending = 0;
    let timer: NodeJS.Timeout | null = null;
    const flush = () => { if (timer) { clearTimeout(timer); timer = null; } if (pending && ws.readyState === ws.OPEN) ws.send(JSON.stringify({ t: 'ack', n: pending })); pending = 0; };
    ws.on('message', (d, isBinary) => {
      if (!isBinary) return;
      const b = d as Buffer;
      onData(dec.decode(b, { stream: true }), b.length);
      pending += b.length;
      if (pending >= 64 << 10) flush();
      else timer ??= setTimeout(flush, 15);
    });
    ws.on('close', (code, reason) => onClose(`${code} ${reason}`));
    ws.on('error', (e) => reject(e));
    ws.on('open', () => resolve({ input: (s) => ws.send(Buffer.from(s, 'utf8')), close: () => { flush(); ws.close(); } }));
  }), mib);
}

/** A ttyd-like server's endpoint (ttyd's protocol). */
export function ttydFlood(url: string, mib: number): Promise<NodeFlood> {
  const u = new URL(url);
  return drive((onData, onClose) => new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${u.host}/ws`, ['tty'], { headers: { Origin: `http://${u.host}` } });
    const dec = new TextDecoder();
    ws.on('message', (d) => {
      const b = d as Buffer;
      if (b[0] !== 0x30) return;
      onData(dec.decode(b.subarray(1), { stream: true }), b.length - 1);
    });
    ws.on('close', (code, reason) => onClose(`${code} ${reason}`));
    ws.on('error', (e) => reject(e));
    ws.on('open', () => {
      ws.send(Buffer.from(JSON.stringify({ AuthToken: '', columns: 120, rows: 40 })));
      resolve({ input: (s) => ws.send(Buffer.from(`0${s}`, 'utf8')), close: () => ws.close() });
    });
  }), mib);
}

interface IoSocket { on(ev: string, f: (...a: unknown[]) => void): IoSocket; emit(ev: string, ...a: unknown[]): void; close(): void }

/** WeTTY's socket.io endpoint, with socket.io-client from WeTTY's own install (`dir`). */
export function wettyFlood(dir: string, url: string, mib: number): Promise<NodeFlood> {
  const { io } = createRequire(path.join(dir, 'package.json'))('socket.io-client') as { io: (u: string, o: unknown) => IoSocket };
  const u = new URL(url);
  return drive((onData, onClose) => new Promise((resolve, reject) => {
    const s = io(u.origin, { path: `${u.pathname.replace(/\/$/, '')}/socket.io`, transports: ['websocket'], reconnection: false, extraHeaders: { Referer: url } });
    let counter = 0;
    s.on('data', (d) => {
      const str = d as string;
      onData(str, Buffer.byteLength(str, 'utf8'));
      counter += str.length;
      if (counter >= 262144) { counter -= 262144; s.emit('commit', 262144); }
    });
    s.on('disconnect', (why) => onClose(String(why)));
    s.on('connect_error', (e) => reject(e as Error));
    s.on('connect', () => {
      s.emit('resize', { cols: 120, rows: 40 });
      resolve({ input: (x) => s.emit('input', x), close: () => s.close() });
    });
  }), mib);
}
