// P3, keystroke → echo: in a page's xterm (real key presses, timed in the page from the keydown to the render
// that shows the echo, with stages) and on a plain WebSocket from the same page (send → first frame with the echo).
import type { Page } from '@playwright/test';
import { T0, VM, r2, sleep, stats, type CpuGroups, type Stats } from './common.ts';

export const WARMUP = 10;

/** What else happened while an echo block ran: each server's CPU, the pages' HTTP requests. */
export interface BlockLog { what: string; start: number; seconds: number; serverCpuMs: Record<string, number>; requests: string[] }
export interface Trace { groups: CpuGroups; blocks: BlockLog[]; requests: { t: number; page: string; url: string }[] }

/** One keystroke, from its keydown. Times in ms after the keydown handler ran. */
export interface EchoSample {
  rendered: number; inputDelay: number; send: number; msg: number; write: number; parsed: number;
  frame: number; rafStart: number; renderMs: number; ack: number; commits: number; mutations: number;
  /** Wall clock (ms since the epoch) of the keydown. */
  wall: number;
}

export const STAGES = ['inputDelay', 'send', 'msg', 'write', 'parsed', 'frame', 'rafStart', 'rendered', 'renderMs', 'ack', 'commits', 'mutations'] as const;
export type StageStats = Record<(typeof STAGES)[number], Stats>;
export function stageStats(xs: EchoSample[]): StageStats {
  return Object.fromEntries(STAGES.map((k) => [k, stats(xs.map((x) => x[k]))])) as StageStats;
}

/** P3 in xterm, one block of n keys: real key presses, timed in the page from keydown to the render that shows the echo. */
export async function xtermEcho(trace: Trace, page: Page, label: string, n: number): Promise<EchoSample[]> {
  const b0 = { t: Date.now(), cpu: trace.groups.sample().serverSelf };
  await page.bringToFront();
  await page.getByTestId(`${label}-xterm`).click();
  await page.keyboard.type('cat >/dev/null');
  await page.keyboard.press('Enter');
  await sleep(1500);
  await page.evaluate((l) => {
    type W = { __lat?: unknown; __probe: { armed: boolean; t0: number; send: number; msg: number; ack: number; rafStart: number; rafTs: number; commits: number } };
    const w = window as unknown as W;
    if (w.__lat) return;
    const P = w.__probe;
    const el = document.querySelector(`[data-testid="${l}-xterm"]`) as HTMLElement;
    const t = (el as unknown as { __xterm: import('@xterm/xterm').Terminal }).__xterm;
    const L = {
      active: false, armed: false, t0: 0, lag: 0, x: 0, y: 0, tw: 0, tp: 0, c0: 0, m: 0,
      samples: [] as Record<string, number>[], cur: null as Record<string, number> | null, done: null as (() => void) | null,
    };
    (window as unknown as { __lat: typeof L }).__lat = L;
    const write = t.write.bind(t);
    t.write = ((d: string | Uint8Array, cb?: () => void) => { if (L.armed && !L.tw) L.tw = performance.now(); write(d, cb); }) as typeof t.write;
    t.onWriteParsed(() => { if (L.armed && L.tw && !L.tp) L.tp = performance.now(); });
    // DOM changes outside the terminal (a React re-render that touched the page) while a key is in flight.
    new MutationObserver((recs) => { if (L.armed) L.m += recs.filter((r) => !el.contains(r.target)).length; })
      .observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    window.addEventListener('keydown', (e) => {
      if (!L.active || e.key.length !== 1 || e.ctrlKey || e.altKey || e.metaKey) return;
      // The previous key's ack (if any) left by now: close its record.
      if (L.cur) { L.cur.ack = P.ack ? P.ack - L.t0 : NaN; L.cur = null; }
      const b = t.buffer.active;
      const now = performance.now();
      L.x = b.cursorX; L.y = b.baseY + b.cursorY; L.tw = 0; L.tp = 0; L.t0 = now; L.lag = now - e.timeStamp; L.c0 = P.commits; L.m = 0;
      P.t0 = now; P.send = 0; P.msg = 0; P.ack = 0; P.armed = true;
      L.armed = true;
    }, true);
    t.onRender(() => {
      if (!L.armed) return;
      const b = t.buffer.active;
      if (b.cursorX === L.x && b.baseY + b.cursorY === L.y) return;
      const now = performance.now();
      const rel = (x: number) => (x ? x - L.t0 : NaN);
      const s = {
        rendered: now - L.t0, inputDelay: L.lag, send: rel(P.send), msg: rel(P.msg), write: rel(L.tw), parsed: rel(L.tp),
        frame: P.rafTs - L.t0, rafStart: P.rafStart - L.t0, renderMs: now - P.rafStart, ack: NaN, commits: P.commits - L.c0, mutations: L.m,
        wall: performance.timeOrigin + L.t0,
      };
      L.samples.push(s);
      L.cur = s;
      L.armed = false;
      const d = L.done; L.done = null; d?.();
    });
  }, label);
  await page.evaluate(() => { const L = (window as unknown as { __lat: { active: boolean; samples: unknown[]; cur: unknown } }).__lat; L.active = true; L.samples = []; L.cur = null; });
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  for (let i = 0; i < n + WARMUP; i++) {
    await page.keyboard.press(letters[i % 26]);
    await page.evaluate(() => new Promise<void>((resolve, reject) => {
      const L = (window as unknown as { __lat: { armed: boolean; done: (() => void) | null } }).__lat;
      if (!L.armed) { resolve(); return; }
      const t = setTimeout(() => reject(new Error('no echo rendered within 15 s')), 15_000);
      L.done = () => { clearTimeout(t); resolve(); };
    }));
    if ((i + 1) % 60 === 0) { await page.keyboard.press('Enter'); await sleep(300); }
    await sleep(30);
  }
  await sleep(100); // let the last ack go
  await page.keyboard.press('Control+c');
  const out = await page.evaluate(() => {
    const L = (window as unknown as { __lat: { active: boolean; armed: boolean; samples: Record<string, number>[]; cur: Record<string, number> | null } }).__lat;
    const P = (window as unknown as { __probe: { ack: number; armed: boolean; t0: number } }).__probe;
    if (L.cur) { L.cur.ack = P.ack ? P.ack - P.t0 : NaN; L.cur = null; }
    L.active = false; L.armed = false; P.armed = false;
    return L.samples;
  });
  await sleep(500);
  const t1 = Date.now();
  const cpu = trace.groups.sample().serverSelf;
  trace.blocks.push({ what: `${label} xterm, ${n} keys`, start: r2((b0.t - T0) / 1000), seconds: r2((t1 - b0.t) / 1000),
    serverCpuMs: Object.fromEntries(Object.keys(cpu).map((k) => [k, cpu[k] - (b0.cpu[k] ?? 0)])),
    requests: trace.requests.filter((q) => q.t >= b0.t && q.t <= t1).map((q) => `${r2((q.t - T0) / 1000)} ${q.page} ${q.url}`) });
  return (out as unknown as EchoSample[]).slice(WARMUP);
}

export type Proto = 'panel' | 'ttyd';

/** P3 without xterm: a plain WebSocket from the same page to the same endpoint, in that endpoint's protocol. */
export async function rawEcho(page: Page, wsUrl: string, proto: Proto, samples: number): Promise<number[]> {
  return page.evaluate(async ([url, pr, n, warm, vm]) => {
    const enc = new TextEncoder();
    const dec = new TextDecoder();
    const ws = pr === 'ttyd' ? new WebSocket(url, ['tty']) : new WebSocket(url, ['pvmlab', `pvmlab.key.${localStorage.getItem('pvmlab.key')}`]);
    ws.binaryType = 'arraybuffer';
    const input = (s: string) => {
      if (pr === 'panel') { ws.send(enc.encode(s)); return; }
      ws.send(enc.encode(`0${s}`));
    };
    let text = '';
    let wake: (() => void) | null = null;
    ws.onmessage = (ev) => {
      if (typeof ev.data === 'string') return;
      let buf = new Uint8Array(ev.data as ArrayBuffer);
      if (pr === 'panel') ws.send(JSON.stringify({ t: 'ack', n: buf.byteLength }));
      else { if (buf[0] !== 0x30) return; buf = buf.subarray(1); }
      const chunk = dec.decode(buf, { stream: true });
      // The shell asks where the cursor is after each prompt (ESC[6n); a terminal answers, so do we.
      for (let i = chunk.indexOf('\x1b[6n'); i >= 0; i = chunk.indexOf('\x1b[6n', i + 1)) input('\x1b[1;15R');
      text += chunk;
      wake?.();
    };
    await new Promise<void>((res, rej) => {
      ws.onopen = () => {
        if (pr === 'ttyd') ws.send(enc.encode(JSON.stringify({ AuthToken: '', columns: 120, rows: 40 })));
        res();
      };
      ws.onclose = (e) => rej(new Error(`RETRY: closed ${e.code} ${e.reason}`));
    });
    let closed = '';
    let prompted = false;
    ws.onclose = (e) => { closed = `${e.code} ${e.reason}`; wake?.(); };
    const until = async (pred: () => boolean, ms: number, what: string) => {
      const end = performance.now() + ms;
      while (!pred()) {
        // ssh gives up (exit 255) when the guest is slow to answer: the caller starts a new session.
        if (closed) throw new Error(`${prompted ? '' : 'RETRY: '}closed (${closed}) waiting for ${what}; last: ${JSON.stringify(text.slice(-200))}`);
        if (performance.now() > end) throw new Error(`timeout waiting for ${what}; last: ${JSON.stringify(text.slice(-200))}`);
        await new Promise<void>((r) => { wake = r; setTimeout(r, 50); });
        wake = null;
      }
    };
    const sleepP = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await sleepP(1500);
    text = '';
    input('\r');
    await until(() => text.includes(`${vm}:`) && /# (\x1b\[6n)?$/.test(text), 60_000, 'a prompt');
    prompted = true;
    input('cat >/dev/null\r');
    await sleepP(1500);
    const letters = 'abcdefghijklmnopqrstuvwxyz';
    const samples: number[] = [];
    for (let i = 0; i < (n as number) + (warm as number); i++) {
      const ch = letters[i % 26];
      text = '';
      const t0 = performance.now();
      input(ch);
      await until(() => text.includes(ch), 15_000, `the echo of ${ch}`);
      samples.push(performance.now() - t0);
      if ((i + 1) % 60 === 0) { input('\r'); await sleepP(300); }
      await sleepP(30);
    }
    input('\x03');
    await sleepP(300);
    ws.close();
    return samples.slice(warm as number);
  }, [wsUrl, proto, samples, WARMUP, VM] as const);
}

export interface Variant { xterm: Stats; pageShare: Stats; stages: StageStats; raw?: Stats; term: unknown }
/** pageShare: the echo's frame arriving in the page → the echo on screen (what the page itself adds; the rest is input, server, guest). */
export const variant = (s: EchoSample[], term: unknown, raw?: number[]): Variant =>
  ({ xterm: stats(s.map((x) => x.rendered)), pageShare: stats(s.map((x) => x.rendered - x.msg)), stages: stageStats(s), ...(raw ? { raw: stats(raw) } : {}), term });
