import crypto from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { onCleanup } from '../lab/testing/cleanup.ts';
import { WebSocket, WebSocketServer } from 'ws';
import { Fanout, HIGH_WATER, LOW_WATER, MAX_FRAME, MAX_HOLD_MS, Tail } from './stream.ts';
import { waitFor } from '../lab/testing/wait.ts';


/** A Fanout behind a real WebSocket server; ?noreplay attaches without the tail (as the log follow does). */
async function setup(tailBytes?: number) {
  const events: string[] = [];
  const fan = new Fanout({ pause: () => events.push('pause'), resume: () => events.push('resume') }, tailBytes);
  const inputs: Buffer[] = [];
  fan.onInput = (d) => inputs.push(d);
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  const serverSockets: WebSocket[] = [];
  const hooks: { beforeAttach?: () => void } = {};
  wss.on('connection', (ws, req) => { serverSockets.push(ws); hooks.beforeAttach?.(); fan.attach(ws, !req.url?.includes('noreplay')); });
  onCleanup(() => new Promise((r) => { for (const c of wss.clients) c.terminate(); wss.close(r); }));
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`;
  return { fan, events, inputs, serverSockets, hooks, connect: (q = '') => connect(url + q, fan) };
}

interface Client {
  ws: WebSocket;
  chunks: Buffer[];
  controls: Record<string, unknown>[];
  bytes(): Buffer;
  ack(n: number): void;
  closed: Promise<{ code: number; reason: string }>;
}

async function connect(url: string, fan: Fanout): Promise<Client> {
  const before = fan.size;
  const ws = new WebSocket(url);
  const c: Client = {
    ws, chunks: [], controls: [],
    bytes: () => Buffer.concat(c.chunks),
    ack: (n) => ws.send(JSON.stringify({ t: 'ack', n })),
    closed: new Promise((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString() }))),
  };
  ws.on('message', (d, isBinary) => { if (isBinary) c.chunks.push(d as Buffer); else c.controls.push(JSON.parse(d.toString())); });
  await once(ws, 'open');
  await waitFor(() => fan.size === before + 1);
  return c;
}

/** Send an input frame and wait for it: every message the client sent before has then been handled. */
async function barrier(c: Client, inputs: Buffer[]): Promise<void> {
  const token = 'sync-' + crypto.randomUUID();
  c.ws.send(Buffer.from(token), { binary: true });
  await waitFor(() => inputs.some((b) => b.toString() === token));
}

describe('Tail', () => {
  it('keeps the most recent whole chunks within its bound', () => {
    const t = new Tail(10);
    expect(t.get()).toEqual(Buffer.alloc(0));
    for (const s of ['aaaa', 'bbbb', 'cccc']) t.push(Buffer.from(s));
    expect(t.get().toString()).toBe('bbbbcccc');
    t.push(Buffer.from('dd'));
    expect(t.get().toString()).toBe('bbbbccccdd');
    t.push(Buffer.from('0123456789ABC')); // one chunk over the bound is kept whole, alone
    expect(t.get().toString()).toBe('0123456789ABC');
  });
});

describe('Fanout over real WebSockets', () => {
  it('sends every byte to several clients, byte for byte and in order', async () => {
    const { fan, events, connect } = await setup();
    const clients = [await connect(), await connect(), await connect()];
    for (const c of clients) c.ws.on('message', (d, bin) => { if (bin) c.ack((d as Buffer).length); });
    const sent: Buffer[] = [];
    for (let i = 0; i < 200; i++) { const b = crypto.randomBytes(1 + ((i * 7919) % 4000)); sent.push(b); fan.write(b); }
    const all = Buffer.concat(sent);
    await waitFor(() => clients.every((c) => c.bytes().length >= all.length));
    for (const c of clients) expect(c.bytes().equals(all)).toBe(true);
    expect(events).toEqual([]);
  });

  it('pauses the producer above the high-water mark, keeps delivering, and resumes below the low-water mark', async () => {
    const { fan, events, inputs, connect } = await setup();
    const c = await connect();
    const chunk = 64 << 10;
    const sent: Buffer[] = [];
    const write = () => { const b = crypto.randomBytes(chunk); sent.push(b); fan.write(b); };
    for (let i = 0; i < HIGH_WATER / chunk; i++) write();
    expect(events).toEqual([]); // exactly at the mark: not above it
    write();
    expect(events).toEqual(['pause']);
    for (let i = 0; i < 5; i++) write(); // bytes the producer had in flight: still delivered, no second pause
    expect(events).toEqual(['pause']);
    const total = sent.length * chunk;
    await waitFor(() => c.bytes().length === total);
    expect(c.bytes().equals(Buffer.concat(sent))).toBe(true);

    c.ack(total - LOW_WATER); // exactly at the low mark: not below it
    await barrier(c, inputs);
    expect(events).toEqual(['pause']);
    c.ack(1);
    await waitFor(() => events.length === 2);
    expect(events).toEqual(['pause', 'resume']);
  });

  it('a stalled client pauses the stream for all; the others still get every byte; its leaving resumes the producer', async () => {
    const { fan, events, connect } = await setup();
    const fast = await connect();
    const stalled = await connect();
    fast.ws.on('message', (d, bin) => { if (bin) fast.ack((d as Buffer).length); });
    const sent: Buffer[] = [];
    for (let i = 0; i < 20; i++) { const b = crypto.randomBytes(100_000); sent.push(b); fan.write(b); }
    expect(events).toEqual(['pause']);
    const all = Buffer.concat(sent);
    await waitFor(() => fast.bytes().length === all.length && stalled.bytes().length === all.length);
    expect(fast.bytes().equals(all)).toBe(true);
    expect(stalled.bytes().equals(all)).toBe(true);
    stalled.ws.close();
    await waitFor(() => fan.size === 1);
    expect(events).toEqual(['pause', 'resume']);
  });

  it('reattaching replays the bounded tail, then follows; the last client leaving ends nothing', async () => {
    const { fan, events, connect } = await setup(1000);
    let empties = 0;
    fan.onEmpty = () => empties++;
    const chunk = (i: number) => Buffer.from(String(i % 10).repeat(100));
    const a = await connect();
    for (let i = 0; i < 5; i++) fan.write(chunk(i));
    await waitFor(() => a.bytes().length === 500);
    a.ws.close();
    expect((await a.closed).code).toBe(1005);
    await waitFor(() => fan.size === 0);
    expect(empties).toBe(1);
    for (let i = 5; i < 30; i++) fan.write(chunk(i)); // output while nobody watches

    const b = await connect();
    await waitFor(() => b.bytes().length === 1000);
    expect(b.chunks.length).toBe(1); // the tail arrives as one frame…
    expect(b.bytes().toString()).toBe(Array.from({ length: 10 }, (_, k) => chunk(20 + k).toString()).join('')); // …the last 1000 bytes
    const n = await connect('?noreplay'); // the log follow: no replay
    fan.write(Buffer.from('live'));
    await waitFor(() => b.chunks.length === 2 && n.chunks.length === 1);
    expect(b.chunks[1].toString()).toBe('live');
    expect(n.bytes().toString()).toBe('live');
    expect(events).toEqual([]);
    expect(b.controls).toEqual([]);
  });

  it('passes input and clamped resizes to the producer, ignores junk, and sends control messages', async () => {
    const { fan, inputs, serverSockets, connect } = await setup();
    const sizes: [number, number][] = [];
    fan.onResize = (cols, rows) => sizes.push([cols, rows]);
    const a = await connect();
    const b = await connect();
    const raw = Buffer.from([0x1b, 0x5b, 0x41, 0xff, 0x00]);
    a.ws.send(raw, { binary: true });
    a.ws.send(JSON.stringify({ t: 'input', d: 'ls -l\r' }));
    for (const junk of ['{not json', '{"t":"ack","n":-5}', '{"t":"ack","n":"9"}', '{"t":"resize","cols":1.5,"rows":3}', '{"t":"what"}']) a.ws.send(junk);
    a.ws.send(JSON.stringify({ t: 'resize', cols: 1, rows: 9999 }));
    a.ws.send(JSON.stringify({ t: 'resize', cols: 132, rows: 43 }));
    await barrier(a, inputs);
    expect(inputs.slice(0, 2)).toEqual([raw, Buffer.from('ls -l\r')]);
    expect(sizes).toEqual([[2, 500], [132, 43]]);

    fan.info('reattached');
    fan.tell(serverSockets[1], { t: 'info', text: 'only b' });
    fan.control({ t: 'exit', code: 0 });
    fan.closeAll(1000, 'session ended');
    expect(await a.closed).toEqual({ code: 1000, reason: 'session ended' });
    expect(await b.closed).toEqual({ code: 1000, reason: 'session ended' });
    expect(a.controls).toEqual([{ t: 'info', text: 'reattached' }, { t: 'exit', code: 0 }]);
    expect(b.controls).toEqual([{ t: 'info', text: 'reattached' }, { t: 'info', text: 'only b' }, { t: 'exit', code: 0 }]);
  });

  it('coalesces back-to-back reads into one frame, sent once a loop turn brings nothing more — no timer', async () => {
    const { fan, serverSockets, connect } = await setup();
    const c = await connect('?noreplay');
    let sends = 0;
    const send = serverSockets[0].send.bind(serverSockets[0]);
    serverSockets[0].send = ((...a: Parameters<typeof send>) => { sends++; return send(...a); }) as typeof send;
    const hop = () => new Promise<void>((r) => setImmediate(r)); // one turn of the event loop
    const sent: Buffer[] = [];
    const write = (n: number) => { const b = crypto.randomBytes(n); sent.push(b); fan.write(b); };
    // A flush that waited on a timer would never come; the clock stands still (no MAX_HOLD_MS cut on a slow machine).
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval', 'performance'] });
    try {
      for (let i = 0; i < 20; i++) write(1 + ((i * 131) % 900)); // a burst within one turn…
      for (let i = 0; i < 3; i++) { await hop(); write(2000); } // …and reads in the next turns, as a fast pty gives them
      expect(sends).toBe(0);
      await hop();
      await hop();
      expect(sends).toBe(1); // the first turn without new bytes sent them, as one frame
      write(1); // a lone keystroke's echo: out after one idle turn
      await hop();
      await hop();
      expect(sends).toBe(2);
    } finally {
      vi.useRealTimers();
    }
    const all = Buffer.concat(sent);
    await waitFor(() => c.bytes().length === all.length);
    expect(c.chunks.map((b) => b.length)).toEqual([all.length - 1, 1]);
    expect(c.bytes().equals(all)).toBe(true);
  });

  it('keeps frames within MAX_FRAME and the order of bytes and control messages', async () => {
    const { fan, connect } = await setup();
    const c = await connect('?noreplay');
    const order: string[] = [];
    c.ws.on('message', (_d, bin) => order.push(bin ? 'bytes' : 'control'));
    const big = [crypto.randomBytes(40 << 10), crypto.randomBytes(40 << 10), crypto.randomBytes(40 << 10)];
    for (const b of big) fan.write(b);
    fan.control({ t: 'exit', code: 0 }); // right after the last write: the bytes go first
    await waitFor(() => c.controls.length === 1);
    expect(c.bytes().equals(Buffer.concat(big))).toBe(true);
    expect(c.chunks.every((b) => b.length <= MAX_FRAME)).toBe(true);
    expect(c.chunks.length).toBe(3);
    expect(order).toEqual(['bytes', 'bytes', 'bytes', 'control']);
  });

  it('a client attaching while bytes wait to be sent gets them once (in its replay), the others once', async () => {
    const { fan, hooks, connect } = await setup();
    const a = await connect();
    fan.write(Buffer.from('first '));
    await waitFor(() => a.bytes().length === 6);
    hooks.beforeAttach = () => { hooks.beforeAttach = undefined; fan.write(Buffer.from('pending')); }; // b attaches in the same turn
    const bc = await connect();
    fan.write(Buffer.from(' after'));
    await waitFor(() => a.bytes().toString() === 'first pending after' && bc.bytes().toString() === 'first pending after');
  });

  it('a producer that never pauses is still sent every MAX_HOLD_MS, not held until it stops', async () => {
    const { fan, connect } = await setup();
    const c = await connect('?noreplay');
    const t0 = performance.now();
    let n = 0;
    // One small read every loop turn for 20 × MAX_HOLD_MS: never an idle turn.
    while (performance.now() - t0 < 20 * MAX_HOLD_MS) { fan.write(Buffer.from('x')); n++; await new Promise((r) => setImmediate(r)); }
    const elapsed = performance.now() - t0;
    await waitFor(() => c.bytes().length === n);
    expect(c.chunks.length).toBeGreaterThanOrEqual(3); // sent along the way, not all at the end
    expect(c.chunks.length).toBeLessThanOrEqual(Math.ceil(elapsed / MAX_HOLD_MS) + 1); // each frame held ~MAX_HOLD_MS: coalesced
  });
});
