// P4, output throughput: a flood through a page's xterm (with clicks meanwhile), through a plain WebSocket,
// through the system ssh into a pipe, and the ceilings without the guest (bytes fed straight into xterm; a
// host shell behind a ttyd-like server).
import { spawn } from 'node:child_process';
import type { Locator, Page } from '@playwright/test';
import { MiB, VM, cpuDiff, cpuSum, floodCommand, load1, perMiB, r2, sleep, stats, type CpuGroups, type CpuSample, type Stats } from './common.ts';

export interface FloodResult {
  bytes: number; seconds: number; mibPerSec: number;
  /** Output frames (WebSocket messages / term.write calls) and their mean size. */
  frames?: number; meanFrameBytes?: number;
  clicks?: { n: number; clickMs: Stats; handlerDelayMs: Stats };
  /** xterm floods run in parts, alternating the pages: each part's figures. */
  parts?: { bytes: number; seconds: number; mibPerSec: number; load1: number; hostCpuMsPerMiB: CpuSample }[];
  /** Host CPU per MiB of output by process group (common.ts, CpuGroups) over all parts, each group's idle rate subtracted. */
  hostCpuMsPerMiB?: CpuSample;
}

export interface FloodPart { bytes: number; frames: number; ms: number; clickMs: number[]; delays: number[]; load1: number; cpu: CpuSample }

/** The parts of one page's flood as one figure; `idle` is each group's idle CPU rate (ms/s). */
export function floodSummary(parts: FloodPart[], idle?: CpuSample): FloodResult {
  const bytes = parts.reduce((a, p) => a + p.bytes, 0);
  const seconds = parts.reduce((a, p) => a + p.ms, 0) / 1000;
  const clickMs = parts.flatMap((p) => p.clickMs);
  const delays = parts.flatMap((p) => p.delays);
  const frames = parts.reduce((a, p) => a + p.frames, 0);
  return {
    bytes, seconds: r2(seconds), mibPerSec: r2(bytes / MiB / seconds), frames, meanFrameBytes: Math.round(bytes / frames),
    clicks: { n: clickMs.length, clickMs: stats(clickMs), handlerDelayMs: stats(delays.length ? delays : [0]) },
    parts: parts.map((p) => ({ bytes: p.bytes, seconds: r2(p.ms / 1000), mibPerSec: r2(p.bytes / MiB / (p.ms / 1000)), load1: p.load1, hostCpuMsPerMiB: perMiB(p.cpu, p.bytes, p.ms / 1000, idle) })),
    hostCpuMsPerMiB: perMiB(cpuSum(parts.map((p) => p.cpu)), bytes, seconds, idle),
  };
}

/** P4 in xterm: bytes through term.write until the marker line is in the buffer; clicks meanwhile. */
export async function xtermFlood(groups: CpuGroups, page: Page, label: string, button: Locator, mib: number): Promise<FloodPart> {
  await page.bringToFront();
  const l1 = load1();
  const c0 = groups.sample();
  await page.evaluate(([l, cmd]) => {
    const t = (document.querySelector(`[data-testid="${l}-xterm"]`) as unknown as { __xterm: import('@xterm/xterm').Terminal }).__xterm;
    t.clear(); // no marker line of an earlier flood left near the cursor
    const F = { bytes: 0, writes: 0, t0: 0, t1: 0, done: false, delays: [] as number[] };
    (window as unknown as { __flood: typeof F }).__flood = F;
    const write = t.write.bind(t);
    t.write = ((d: string | Uint8Array, cb?: () => void) => { if (F.t0 && !F.done) { F.bytes += d.length; F.writes++; } write(d, cb); }) as typeof t.write;
    t.onWriteParsed(() => {
      if (F.done || !F.t0) return;
      const b = t.buffer.active;
      for (let y = Math.max(0, b.baseY + b.cursorY - 3); y <= b.baseY + b.cursorY; y++) {
        if (b.getLine(y)?.translateToString(true) === 'FLOOD-2') { F.t1 = performance.now(); F.done = true; return; }
      }
    });
    document.addEventListener('click', (e) => { if (F.t0 && !F.done) F.delays.push(performance.now() - e.timeStamp); }, true);
    F.t0 = performance.now();
    t.input(`${cmd}\r`, true);
  }, [label, floodCommand(mib)] as const);
  const clickMs: number[] = [];
  const deadline = Date.now() + 60 * 60_000;
  for (;;) {
    const done = await page.evaluate(() => (window as unknown as { __flood: { done: boolean } }).__flood.done);
    if (done) break;
    if (Date.now() > deadline) throw new Error('the flood did not finish within an hour');
    const t0 = performance.now();
    await button.click({ timeout: 60_000 });
    clickMs.push(performance.now() - t0);
    await sleep(500);
  }
  const f = await page.evaluate(() => (window as unknown as { __flood: { bytes: number; writes: number; t0: number; t1: number; delays: number[] } }).__flood);
  return { bytes: f.bytes, frames: f.writes, ms: f.t1 - f.t0, clickMs, delays: f.delays, load1: l1, cpu: cpuDiff(c0, groups.sample()) };
}

/** P4 without xterm: a plain WebSocket (fresh SSH session) from the same page, acking every frame. */
export async function rawFlood(page: Page, wsPath: string, mib: number): Promise<FloodResult> {
  const r = await page.evaluate(async ([p, cmd, vm]) => {
    const enc = new TextEncoder();
    const dec = new TextDecoder();
    const ws = new WebSocket(`ws://${location.host}${p}`, ['pvmlab', `pvmlab.key.${localStorage.getItem('pvmlab.key')}`]);
    ws.binaryType = 'arraybuffer';
    let tail = '';
    let bytes = 0;
    let frames = 0;
    let t0 = 0;
    let t1 = 0;
    let prompt = false;
    let closed = '';
    const done = new Promise<void>((resolve, reject) => {
      ws.onclose = (e) => { closed = `${e.code} ${e.reason}`; reject(new Error(`closed ${closed}`)); };
      ws.onmessage = (ev) => {
        if (typeof ev.data === 'string') return;
        const buf = ev.data as ArrayBuffer;
        ws.send(JSON.stringify({ t: 'ack', n: buf.byteLength }));
        if (t0 && !t1) { bytes += buf.byteLength; frames++; }
        const chunk = dec.decode(buf, { stream: true });
        if (chunk.includes('\x1b[6n')) ws.send(enc.encode('\x1b[1;15R')); // answer the shell's cursor query
        tail = (tail + chunk).slice(-64);
        if (!t0 && tail.includes(`${vm}:`) && /# (\x1b\[6n)?$/.test(tail)) prompt = true;
        if (t0 && /(^|\n)FLOOD-2\r?\n/.test(tail)) { t1 = performance.now(); resolve(); }
      };
    });
    done.catch(() => { /* reported below */ });
    await new Promise<void>((res) => { ws.onopen = () => res(); });
    const end = performance.now() + 120_000;
    ws.send(enc.encode('\r'));
    while (!prompt) {
      if (closed) throw new Error(`RETRY: closed (${closed}) before the prompt; last: ${JSON.stringify(tail)}`);
      if (performance.now() > end) throw new Error(`no prompt on the raw SSH session; last: ${JSON.stringify(tail)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    t0 = performance.now();
    ws.send(enc.encode(`${cmd}\r`));
    await done;
    ws.close();
    return { bytes, frames, ms: t1 - t0 };
  }, [wsPath, floodCommand(mib), VM] as const);
  const seconds = r.ms / 1000;
  return { bytes: r.bytes, seconds: r2(seconds), mibPerSec: r2(r.bytes / MiB / seconds), frames: r.frames, meanFrameBytes: Math.round(r.bytes / r.frames) };
}

/** P4 ceiling without a web terminal: the same command through the system ssh -tt into a pipe (first byte → exit). */
export async function directSshFlood(sshCmd: string[], mib: number): Promise<FloodResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(sshCmd[0], [...sshCmd.slice(1), floodCommand(mib)], { stdio: ['pipe', 'pipe', 'inherit'] });
    let bytes = 0;
    let t0 = 0;
    child.stdout.on('data', (d: Buffer) => { if (!t0) t0 = performance.now(); bytes += d.length; });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) { reject(new Error(`${code === 255 && !bytes ? 'RETRY: ' : ''}ssh exited ${code}`)); return; }
      const seconds = (performance.now() - t0) / 1000;
      resolve({ bytes, seconds: Math.round(seconds * 100) / 100, mibPerSec: Math.round((bytes / MiB / seconds) * 100) / 100 });
    });
  });
}

/**
 * Ceiling, browser only: the same kind of bytes (base64 lines, ~3 KiB per write like the pty frames) fed
 * straight into a page's xterm — no socket, no server, no guest. Keeps up to 256 writes in flight and
 * refills from xterm's write callbacks. MiB/s until the last write is parsed.
 */
export async function feedXterm(page: Page, label: string, mib: number): Promise<{ mibPerSec: number; seconds: number }> {
  await page.bringToFront();
  const r = await page.evaluate(async ([l, m]) => {
    const t = (document.querySelector(`[data-testid="${l}-xterm"]`) as unknown as { __xterm: import('@xterm/xterm').Terminal }).__xterm;
    const chunk = new TextEncoder().encode('QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\r\n'.repeat(40));
    const n = Math.ceil(((m as number) * 1048576) / chunk.length);
    let sent = 0;
    let pending = 0;
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      const pump = () => {
        while (sent < n && pending < 256) {
          sent++; pending++;
          t.write(chunk, () => { pending--; if (sent >= n && pending === 0) resolve(); else if (pending === 63) setTimeout(pump, 0); });
        }
      };
      pump();
    });
    t.write('\x1bc'); // reset: the next figure starts from a clean screen
    return { bytes: n * chunk.length, ms: performance.now() - t0 };
  }, [label, mib] as const);
  return { mibPerSec: r2(r.bytes / 1048576 / (r.ms / 1000)), seconds: r2(r.ms / 1000) };
}

/** Ceiling without the guest: a raw WebSocket (ttyd protocol) to a ttyd-like server running a host shell. */
export async function rawFloodTtyd(page: Page, wsUrl: string, mib: number): Promise<FloodResult> {
  const r = await page.evaluate(async ([url, cmd]) => {
    const enc = new TextEncoder();
    const dec = new TextDecoder();
    const ws = new WebSocket(url, ['tty']);
    ws.binaryType = 'arraybuffer';
    await new Promise((res) => { ws.onopen = res; });
    ws.send(enc.encode(JSON.stringify({ AuthToken: '', columns: 160, rows: 50 })));
    await new Promise((res) => setTimeout(res, 1500));
    let bytes = 0;
    let frames = 0;
    let tail = '';
    let t0 = 0;
    const ms = await new Promise<number>((resolve) => {
      ws.onmessage = (ev) => {
        const u = new Uint8Array(ev.data as ArrayBuffer);
        if (u[0] !== 0x30 || !t0) return;
        bytes += u.length - 1; frames++;
        tail = (tail + dec.decode(u.subarray(1), { stream: true })).slice(-64);
        if (/\nFLOOD-2\r?\n/.test(tail)) resolve(performance.now() - t0);
      };
      t0 = performance.now();
      ws.send(enc.encode(`0${cmd}\r`));
    });
    ws.close();
    return { bytes, frames, ms };
  }, [wsUrl, floodCommand(mib)] as const);
  return { bytes: r.bytes, seconds: r2(r.ms / 1000), mibPerSec: r2(r.bytes / MiB / (r.ms / 1000)), frames: r.frames, meanFrameBytes: Math.round(r.bytes / r.frames) };
}
