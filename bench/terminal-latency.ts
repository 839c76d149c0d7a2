// Benchmark P3 + P4: the browser terminals. Not a test (DESIGN §5): it prints figures and writes
// bench/results/terminal-latency.json. Run on purpose:
//
//   npx tsx bench/terminal-latency.ts [--samples 200] [--flood-mib 64] [--skip-flood]
//
// What it does, on one real panel (started like the e2e suite does: e2e/global-setup.ts, temp lab home)
// and one tiny test guest (scripts/build-test-guest.sh x86_64) with SSH (role provisioner, user-mode
// uplink, dropbear), in Debian's Chromium:
//
// P3 keystroke → echo. In the guest, `cat >/dev/null` runs on a tty (so the guest's line discipline
//    echoes every character), and one character is typed at a time, `--samples` times (after 10 warm-up
//    keys), spaced ~30 ms apart:
//    - xterm: a real key press (Playwright) in the page's terminal; timed inside the page from the keydown
//      (window capture listener) to xterm's onRender that shows the cursor moved (the echo is in the DOM).
//      Also reported: keydown → the echo's bytes handed to term.write, and → xterm done parsing them (the
//      rest is waiting for an animation frame to render).
//    - raw: the same endpoint without xterm: a plain WebSocket opened by the same page, timed from
//      ws.send of the byte to the first binary frame containing the echoed character.
//    for the serial console (/ws/serial/<vm>) and the SSH console (/ws/ssh/<vm>, a fresh session).
// P4 throughput: `head -c <N MiB> /dev/zero | base64` in the SSH console, then a marker line. MiB/s of
//    terminal output bytes as the page processed them (xterm: bytes handed to term.write until the
//    marker line is in xterm's buffer; raw: bytes received and acked until the marker arrived), and,
//    during the xterm flood, a click every 500 ms on the toolbar's Copy button: how long Playwright's
//    click took and how late the page's click handler ran (performance.now() − event.timeStamp).
//
//    A third figure is the ceiling without the panel: the same command through the system `ssh -tt`
//    (lab ssh_config) into a pipe — under TCG the guest's pty + dropbear set the pace.
//
// The issue asked for a comparison with ttyd "(Debian package)". ttyd is not in Debian 12's archive:
// this script checks `apt-cache policy ttyd` and says so; the comparison it makes instead is xterm
// rendering vs the raw WebSocket + pty path of the same panel (what ttyd would replace), same guest.
// Under TCG the guest itself (echo, base64, dropbear's crypto) is a large part of every figure.
import { execFile, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { chromium, type Page } from '@playwright/test';
import globalSetup from '../e2e/global-setup.ts';
import { CHROMIUM, CHROMIUM_ARGS, rawRequest, readPanel, sessionCookie, type PanelInfo } from '../e2e/harness.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = path.join(ROOT, 'bench', 'results', 'terminal-latency.json');
const VM = 'bench-term';
const WARMUP = 10;

const { values: opts } = parseArgs({
  options: {
    samples: { type: 'string', default: '200' },
    'flood-mib': { type: 'string', default: '64' },
    'skip-flood': { type: 'boolean', default: false },
  },
});
const SAMPLES = Number(opts.samples);
const FLOOD_MIB = Number(opts['flood-mib']);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Stats { n: number; p50: number; p95: number; mean: number; min: number; max: number }
function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  const r = (x: number) => Math.round(x * 10) / 10;
  return { n: s.length, p50: r(q(0.5)), p95: r(q(0.95)), mean: r(s.reduce((a, b) => a + b, 0) / s.length), min: r(s[0]), max: r(s[s.length - 1]) };
}

function ttydAvailability(): { available: boolean; policy: string } {
  let policy = '';
  try { policy = execFileSync('apt-cache', ['policy', 'ttyd'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }); } catch (e) { policy = String((e as Error).message); }
  const cand = /Candidate:\s*(\S+)/.exec(policy)?.[1];
  return { available: !!cand && cand !== '(none)', policy: policy.trim() || '(apt-cache printed nothing: no such package)' };
}

let cookie = '';
async function trpc<T = unknown>(panel: PanelInfo, kind: 'query' | 'mutation', proc: string, input: unknown): Promise<T> {
  const res = kind === 'query'
    ? await rawRequest({ port: panel.port, path: `/api/trpc/${proc}?input=${encodeURIComponent(JSON.stringify(input))}`, headers: { cookie } })
    : await rawRequest({ port: panel.port, path: `/api/trpc/${proc}`, method: 'POST', body: JSON.stringify(input),
      headers: { cookie, origin: panel.baseURL, 'content-type': 'application/json' } });
  if (res.status !== 200) throw new Error(`${proc}: ${res.status} ${res.body.slice(0, 300)}`);
  return (JSON.parse(res.body) as { result: { data: T } }).result.data;
}

async function waitLog(panel: PanelInfo, re: RegExp, ms = 180_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (re.test((await trpc<{ data: string }>(panel, 'query', 'vm.log', { name: VM, offset: 0, limit: 1 << 20 })).data)) return;
    await sleep(500);
  }
  throw new Error(`${VM}: no ${re} in the console log within ${ms / 1000} s`);
}

/** The text of the last lines of a page's xterm. */
async function lastLines(page: Page, label: string, n = 5): Promise<string[]> {
  return page.evaluate(([l, k]) => {
    const t = (document.querySelector(`[data-testid="${l}-xterm"]`) as unknown as { __xterm: import('@xterm/xterm').Terminal }).__xterm;
    const b = t.buffer.active;
    const out: string[] = [];
    for (let y = Math.max(0, b.baseY + b.cursorY - (k as number) + 1); y <= b.baseY + b.cursorY; y++) out.push(b.getLine(y)?.translateToString(true) ?? '');
    return out;
  }, [label, n] as const);
}

async function waitPrompt(page: Page, label: string, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if ((await lastLines(page, label, 2).catch(() => [])).some((l) => l.startsWith(`${VM}:`) && l.trimEnd().endsWith('#'))) return;
    await sleep(300);
  }
  throw new Error(`no shell prompt in the ${label} terminal`);
}

/** P3 in xterm: real key presses, timed in the page from keydown to the render that shows the echo. */
interface EchoRun { rendered: number[]; atWrite: number[]; parsed: number[] }

async function xtermEcho(page: Page, label: string): Promise<EchoRun> {
  await page.getByTestId(`${label}-xterm`).click();
  await page.keyboard.type('cat >/dev/null');
  await page.keyboard.press('Enter');
  await sleep(1500);
  await page.evaluate((l) => {
    const t = (document.querySelector(`[data-testid="${l}-xterm"]`) as unknown as { __xterm: import('@xterm/xterm').Terminal }).__xterm;
    const L = { armed: false, t0: 0, x: 0, y: 0, tw: 0, tp: 0, samples: [] as number[], atWrite: [] as number[], parsed: [] as number[] };
    (window as unknown as { __lat: typeof L }).__lat = L;
    // Stages: the echo's bytes handed to term.write, xterm done parsing them, rendered.
    const write = t.write.bind(t);
    t.write = ((d: string | Uint8Array, cb?: () => void) => { if (L.armed && !L.tw) L.tw = performance.now(); write(d, cb); }) as typeof t.write;
    t.onWriteParsed(() => { if (L.armed && L.tw && !L.tp) L.tp = performance.now(); });
    window.addEventListener('keydown', (e) => {
      if (e.key.length !== 1 || e.ctrlKey || e.altKey || e.metaKey) return;
      const b = t.buffer.active;
      L.x = b.cursorX; L.y = b.baseY + b.cursorY; L.tw = 0; L.tp = 0; L.t0 = performance.now(); L.armed = true;
    }, true);
    t.onRender(() => {
      if (!L.armed) return;
      const b = t.buffer.active;
      if (b.cursorX !== L.x || b.baseY + b.cursorY !== L.y) {
        L.samples.push(performance.now() - L.t0);
        L.atWrite.push(L.tw ? L.tw - L.t0 : NaN);
        L.parsed.push(L.tp ? L.tp - L.t0 : NaN);
        L.armed = false;
      }
    });
  }, label);
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  for (let i = 0; i < SAMPLES + WARMUP; i++) {
    await page.keyboard.press(letters[i % 26]);
    await page.waitForFunction(() => !(window as unknown as { __lat: { armed: boolean } }).__lat.armed, null, { timeout: 15_000 });
    if ((i + 1) % 60 === 0) { await page.keyboard.press('Enter'); await sleep(300); }
    await sleep(30);
  }
  await page.keyboard.press('Control+c');
  const L = await page.evaluate(() => (window as unknown as { __lat: { samples: number[]; atWrite: number[]; parsed: number[] } }).__lat);
  return { rendered: L.samples.slice(WARMUP), atWrite: L.atWrite.slice(WARMUP).filter(Number.isFinite), parsed: L.parsed.slice(WARMUP).filter(Number.isFinite) };
}

/** P3 without xterm: a plain WebSocket from the same page to the same endpoint. */
async function rawEcho(page: Page, wsPath: string): Promise<number[]> {
  return page.evaluate(async ([p, n, warm, vm]) => {
    const enc = new TextEncoder();
    const dec = new TextDecoder();
    const ws = new WebSocket(`ws://${location.host}${p}`);
    ws.binaryType = 'arraybuffer';
    let text = '';
    let wake: (() => void) | null = null;
    ws.onmessage = (ev) => {
      if (typeof ev.data === 'string') return;
      const buf = ev.data as ArrayBuffer;
      ws.send(JSON.stringify({ t: 'ack', n: buf.byteLength }));
      const chunk = dec.decode(buf, { stream: true });
      // The shell asks where the cursor is after each prompt (ESC[6n); a terminal answers, so do we.
      for (let i = chunk.indexOf('\x1b[6n'); i >= 0; i = chunk.indexOf('\x1b[6n', i + 1)) ws.send(enc.encode('\x1b[1;15R'));
      text += chunk;
      wake?.();
    };
    await new Promise<void>((res, rej) => { ws.onopen = () => res(); ws.onclose = (e) => rej(new Error(`RETRY: closed ${e.code} ${e.reason}`)); });
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
    ws.send(enc.encode('\r'));
    await until(() => text.includes(`${vm}:`) && /# (\x1b\[6n)?$/.test(text), 60_000, 'a prompt');
    prompted = true;
    ws.send(enc.encode('cat >/dev/null\r'));
    await sleepP(1500);
    const letters = 'abcdefghijklmnopqrstuvwxyz';
    const samples: number[] = [];
    for (let i = 0; i < (n as number) + (warm as number); i++) {
      const ch = letters[i % 26];
      text = '';
      const t0 = performance.now();
      ws.send(enc.encode(ch));
      await until(() => text.includes(ch), 15_000, `the echo of ${ch}`);
      samples.push(performance.now() - t0);
      if ((i + 1) % 60 === 0) { ws.send(enc.encode('\r')); await sleepP(300); }
      await sleepP(30);
    }
    ws.send(enc.encode('\x03'));
    await sleepP(300);
    ws.close();
    return samples.slice(warm as number);
  }, [wsPath, SAMPLES, WARMUP, VM] as const);
}

const floodCommand = (mib: number) => `head -c ${mib * 1024 * 1024} /dev/zero | base64; echo FLOOD-$((1+1))`;

interface FloodResult { bytes: number; seconds: number; mibPerSec: number; clicks?: { n: number; clickMs: Stats; handlerDelayMs: Stats } }

/** P4 in xterm: bytes through term.write until the marker line is in the buffer; clicks meanwhile. */
async function xtermFlood(page: Page, mib: number): Promise<FloodResult> {
  await page.evaluate((cmd) => {
    const t = (document.querySelector('[data-testid="ssh-xterm"]') as unknown as { __xterm: import('@xterm/xterm').Terminal }).__xterm;
    const F = { bytes: 0, t0: 0, t1: 0, done: false, delays: [] as number[] };
    (window as unknown as { __flood: typeof F }).__flood = F;
    const write = t.write.bind(t);
    t.write = ((d: string | Uint8Array, cb?: () => void) => { if (F.t0) F.bytes += d.length; write(d, cb); }) as typeof t.write;
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
  }, floodCommand(mib));
  const clickMs: number[] = [];
  const copy = page.getByTitle('Copy the selection (Ctrl+Shift+C)');
  const deadline = Date.now() + 60 * 60_000;
  for (;;) {
    const done = await page.evaluate(() => (window as unknown as { __flood: { done: boolean } }).__flood.done);
    if (done) break;
    if (Date.now() > deadline) throw new Error('the flood did not finish within an hour');
    const t0 = performance.now();
    await copy.click({ timeout: 60_000 });
    clickMs.push(performance.now() - t0);
    await sleep(500);
  }
  const f = await page.evaluate(() => (window as unknown as { __flood: { bytes: number; t0: number; t1: number; delays: number[] } }).__flood);
  const seconds = (f.t1 - f.t0) / 1000;
  return {
    bytes: f.bytes, seconds: Math.round(seconds * 100) / 100, mibPerSec: Math.round((f.bytes / (1 << 20) / seconds) * 100) / 100,
    clicks: { n: clickMs.length, clickMs: stats(clickMs), handlerDelayMs: stats(f.delays.length ? f.delays : [0]) },
  };
}

/** P4 without xterm: a plain WebSocket (fresh SSH session) from the same page, acking every frame. */
async function rawFlood(page: Page, wsPath: string, mib: number): Promise<FloodResult> {
  const r = await page.evaluate(async ([p, cmd, vm]) => {
    const enc = new TextEncoder();
    const dec = new TextDecoder();
    const ws = new WebSocket(`ws://${location.host}${p}`);
    ws.binaryType = 'arraybuffer';
    let tail = '';
    let bytes = 0;
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
        if (t0) bytes += buf.byteLength;
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
    return { bytes, ms: t1 - t0 };
  }, [wsPath, floodCommand(mib), VM] as const);
  const seconds = r.ms / 1000;
  return { bytes: r.bytes, seconds: Math.round(seconds * 100) / 100, mibPerSec: Math.round((r.bytes / (1 << 20) / seconds) * 100) / 100 };
}

/** P4 ceiling without the panel: the same command through the system ssh -tt into a pipe (first byte → exit). */
async function directSshFlood(panel: PanelInfo, mib: number): Promise<FloodResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('ssh', ['-F', path.join(panel.home, 'configs', 'ssh_config'), '-tt', VM, floodCommand(mib)], { stdio: ['pipe', 'pipe', 'inherit'] });
    let bytes = 0;
    let t0 = 0;
    child.stdout.on('data', (d: Buffer) => { if (!t0) t0 = performance.now(); bytes += d.length; });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) { reject(new Error(`${code === 255 && !bytes ? 'RETRY: ' : ''}ssh exited ${code}`)); return; }
      const seconds = (performance.now() - t0) / 1000;
      resolve({ bytes, seconds: Math.round(seconds * 100) / 100, mibPerSec: Math.round((bytes / (1 << 20) / seconds) * 100) / 100 });
    });
  });
}

/** A raw run, again on a fresh session if ssh gave up before the shell prompt (slow guest). */
async function retrying<T>(what: string, run: (attempt: number) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run(attempt);
    } catch (e) {
      const msg = (e as Error).message;
      if (!msg.includes('RETRY:') || attempt >= 5) throw e;
      console.error(`[bench] ${what}: ${msg.slice(msg.indexOf('RETRY:'), msg.indexOf('RETRY:') + 160)} — again`);
      await sleep(2000);
    }
  }
}

function row(what: string, s: Stats): string {
  return `  ${what.padEnd(34)} p50 ${String(s.p50).padStart(7)} ms   p95 ${String(s.p95).padStart(7)} ms   (n=${s.n}, min ${s.min}, max ${s.max})`;
}

async function main(): Promise<void> {
  const ttyd = ttydAvailability();
  const teardown = await globalSetup({} as never);
  const panel = readPanel();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    cookie = await sessionCookie(panel);
    const { stdout } = await promisify(execFile)(path.join(ROOT, 'scripts/build-test-guest.sh'), ['x86_64'], { maxBuffer: 16 << 20 });
    const dir = stdout.trim().split('\n').pop()!;
    const mac = '52:54:00:be:4c:01';
    await trpc(panel, 'mutation', 'vm.create', {
      name: VM, role: 'provisioner', sshUser: 'root', boot: 'kernel', kernel: path.join(dir, 'vmlinuz'), initrd: path.join(dir, 'initrd.img'),
      memory: '256M', mac, append: `console=ttyS0 pvmlab.hostname=${VM} pvmlab.mac=${mac} pvmlab.uplink=dhcp`,
    });
    await trpc(panel, 'mutation', 'vm.start', { name: VM });
    await waitLog(panel, /PVMLAB-GUEST-READY/);
    console.error(`[bench] ${VM} is up`);

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    // tsx (esbuild keepNames) wraps named functions in __name(): give functions run in the page one.
    await context.addInitScript('window.__name = (f) => f');
    const page = await context.newPage();
    await page.goto(panel.launchUrl);

    // Serial console.
    await page.goto(`${panel.baseURL}/vms/${VM}/serial`);
    await page.getByTestId('serial-state').and(page.locator('[data-phase="live"]')).waitFor();
    await page.getByTestId('serial-xterm').click();
    await page.keyboard.press('Enter');
    await waitPrompt(page, 'serial');
    console.error('[bench] P3 serial, xterm');
    const serialXterm = await xtermEcho(page, 'serial');
    await page.goto(`${panel.baseURL}/setup`);
    console.error('[bench] P3 serial, raw websocket');
    const serialRaw = await retrying('serial raw', () => rawEcho(page, `/ws/serial/${VM}`));

    // SSH console.
    await page.goto(`${panel.baseURL}/vms/${VM}/console`);
    await waitPrompt(page, 'ssh');
    console.error('[bench] P3 ssh, xterm');
    const sshXterm = await xtermEcho(page, 'ssh');
    await waitPrompt(page, 'ssh');
    let floodXterm: FloodResult | null = null;
    let floodRaw: FloodResult | null = null;
    let floodDirect: FloodResult | null = null;
    if (!opts['skip-flood']) {
      console.error(`[bench] P4 ssh flood ${FLOOD_MIB} MiB, xterm`);
      floodXterm = await xtermFlood(page, FLOOD_MIB);
    }
    await page.goto(`${panel.baseURL}/setup`);
    console.error('[bench] P3 ssh, raw websocket');
    const sshRaw = await retrying('ssh raw', () => rawEcho(page, `/ws/ssh/${VM}?session=benchraw${Date.now()}&cols=120&rows=40`));
    if (!opts['skip-flood']) {
      console.error(`[bench] P4 ssh flood ${FLOOD_MIB} MiB, raw websocket`);
      floodRaw = await retrying('ssh raw flood', () => rawFlood(page, `/ws/ssh/${VM}?session=benchflood${Date.now()}&cols=120&rows=40`, FLOOD_MIB));
      console.error(`[bench] P4 ssh flood ${FLOOD_MIB} MiB, system ssh -tt without the panel`);
      floodDirect = await retrying('system ssh flood', () => directSshFlood(panel, FLOOD_MIB));
    }

    const result = {
      at: new Date().toISOString(),
      host: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100), accelerator: 'tcg (no /dev/kvm)' },
      ttyd: { ...ttyd, note: ttyd.available ? 'ttyd has an apt candidate but this script does not run it' : 'ttyd is not in the apt archive: no ttyd comparison' },
      compared: 'xterm.js in the panel page (real key presses, echo timed to xterm\'s render) vs a raw WebSocket opened by the same page on the same /ws/serial and /ws/ssh endpoints (no rendering): the difference is the cost of xterm and the React page',
      samples: SAMPLES,
      p3: {
        serial: { xterm: stats(serialXterm.rendered), raw: stats(serialRaw), xtermStages: { atTermWrite: stats(serialXterm.atWrite), parsed: stats(serialXterm.parsed) } },
        ssh: { xterm: stats(sshXterm.rendered), raw: stats(sshRaw), xtermStages: { atTermWrite: stats(sshXterm.atWrite), parsed: stats(sshXterm.parsed) } },
      },
      p4: opts['skip-flood'] ? null : { command: floodCommand(FLOOD_MIB), xterm: floodXterm, raw: floodRaw, directSsh: floodDirect,
        ratio: floodXterm && floodRaw ? Math.round((floodXterm.mibPerSec / floodRaw.mibPerSec) * 100) / 100 : null },
    };
    fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
    fs.writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`);

    console.log(`terminal latency (${result.host.cpus} CPUs, TCG guest; load ${result.host.loadavg.join(' ')})`);
    console.log(ttyd.available ? 'ttyd: has an apt candidate (not run here)' : 'ttyd: NOT in the apt archive (`apt-cache policy ttyd`: no candidate) — compared instead: xterm page vs raw WebSocket (same endpoints, no rendering)');
    console.log(`P3 keystroke → echo, ${SAMPLES} samples each`);
    console.log(row('serial console, xterm page', result.p3.serial.xterm));
    console.log(row('  … keydown → echo at term.write', result.p3.serial.xtermStages.atTermWrite));
    console.log(row('  … keydown → parsed by xterm', result.p3.serial.xtermStages.parsed));
    console.log(row('serial console, raw websocket', result.p3.serial.raw));
    console.log(row('ssh console, xterm page', result.p3.ssh.xterm));
    console.log(row('  … keydown → echo at term.write', result.p3.ssh.xtermStages.atTermWrite));
    console.log(row('  … keydown → parsed by xterm', result.p3.ssh.xtermStages.parsed));
    console.log(row('ssh console, raw websocket', result.p3.ssh.raw));
    if (result.p4) {
      console.log(`P4 throughput: ${result.p4.command}`);
      for (const [k, f] of [['xterm page', floodXterm], ['raw websocket', floodRaw], ['system ssh -tt, no panel', floodDirect]] as const) {
        if (f) console.log(`  ${k.padEnd(34)} ${f.mibPerSec} MiB/s (${(f.bytes / (1 << 20)).toFixed(1)} MiB in ${f.seconds} s)`);
      }
      if (floodXterm?.clicks) {
        const c = floodXterm.clicks;
        console.log(`  clicks during the xterm flood: ${c.n}; Playwright click p50 ${c.clickMs.p50} ms, max ${c.clickMs.max} ms; handler delay p50 ${c.handlerDelayMs.p50} ms, max ${c.handlerDelayMs.max} ms`);
      }
      if (result.p4.ratio !== null) console.log(`  xterm / raw throughput ratio: ${result.p4.ratio}`);
    }
    console.log(`written: ${path.relative(ROOT, RESULTS)}`);
  } finally {
    await trpc(panel, 'mutation', 'vm.clean', { name: VM }).catch((e: unknown) => console.error(`[bench] clean: ${(e as Error).message}`));
    await browser.close();
    await teardown();
  }
}

main().catch((e: unknown) => { console.error(e); process.exitCode = 1; });
