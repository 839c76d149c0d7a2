// Benchmark P3 + P4: the browser terminals, side by side with a ttyd-equivalent. Not a test (DESIGN §5):
// it prints figures and writes bench/results/terminal-latency.json. Run on purpose:
//
//   npx tsx bench/terminal-latency.ts [--samples 200] [--flood-mib 64] [--skip-flood] [--ab] [--ab-samples 100]
//                                     [--rounds 4] [--ceiling]
//
// What it does, on one real panel (started like the e2e suite does: e2e/global-setup.ts, temp lab home)
// and one tiny test guest (scripts/build-test-guest.sh x86_64) with SSH (role provisioner, user-mode
// uplink, dropbear), in Debian's Chromium (headless, --disable-gpu):
//
// The baseline. Issue #5 asks for a comparison with ttyd "(Debian package)". ttyd is not installable here
// (`apt-cache policy ttyd`: no candidate in Debian 12; nothing but npm and the Debian mirrors is
// reachable). The bench therefore compares with bench/ttyd-like/: a ttyd-EQUIVALENT built from the same
// parts — NOT ttyd. Its own process (node, started by this script, 127.0.0.1 only), one WebSocket per
// page, a fresh pty per connection running the command (node-pty), ttyd's wire protocol, ttyd's client
// flow control (pause/resume around term.write callbacks, nothing else), and a plain static page with the
// same @xterm/xterm + addon-fit and ttyd's terminal options (xterm defaults otherwise: no cursor blink).
// See bench/ttyd-like/server.ts for what it keeps of ttyd and what differs (server in Node, not C; DOM
// renderer, not WebGL). Commands it runs — the closest equivalent of what the panel does:
//   - SSH console: the panel's own argv (`ssh -F <lab>/configs/ssh_config -tt <vm>`, from the vm.sshCommand
//     API plus -tt as server/sockets/terminal.ts adds it), same cwd, same TERM;
//   - serial console: `socat -,raw,echo=0 UNIX-CONNECT:<lab>/monitors/<vm>.serial` on its pty (the usual
//     way to put a unix-socket serial port behind ttyd). The panel connects to that socket directly (no
//     pty). QEMU's serial socket serves one client at a time and the panel keeps its connection once
//     made, so the ttyd-like serial runs come first, before the panel's serial console is opened.
//
// P3 keystroke → echo. In the guest, `cat >/dev/null` runs on a tty (so the guest's line discipline
//    echoes every character), and one character is typed at a time (after 10 warm-up keys per block),
//    spaced ~30 ms apart:
//    - xterm: a real key press (Playwright) in the page's terminal; timed inside the page from the keydown
//      (window capture listener) to xterm's onRender that shows the cursor moved (the echo is on screen).
//      Stages, from the same keydown: the input's WebSocket send, the first binary frame back, the echo's
//      bytes handed to term.write, xterm done parsing them, the animation frame that renders them (its
//      frame time and when the callback started), rendered. Also: the browser's input delay (keydown
//      event.timeStamp → handler), when the panel's ack for the echo left, how many React commits and
//      DOM mutations outside the terminal happened per keystroke. Probes: a context init script wraps
//      WebSocket, requestAnimationFrame and installs a minimal React devtools hook (commit counter); it is
//      injected into both pages alike. Completion is awaited with a promise, not by polling on rAF.
//    - raw: the same endpoint without xterm: a plain WebSocket opened by the same page, timed from
//      ws.send of the byte to the first binary frame containing the echoed character (each protocol's own
//      framing).
//    for the serial console (/ws/serial/<vm> vs ttyd-like + socat) and the SSH console (/ws/ssh/<vm> vs
//    ttyd-like + ssh). For SSH, the xterm blocks alternate ours / ttyd-like (--rounds blocks each, default
//    4) so that a change in the machine's load hits both alike; serial cannot alternate (see above). The
//    JSON keeps every keystroke's time (series) to tell load bursts from a page's own tail.
//    --ab adds one-option-at-a-time variants on the SSH console (runtime xterm option changes made by the
//    bench in the page, no product code involved): each page with its cursor blink flipped, and the idle
//    main-thread cost of the blink on our page (CDP Performance metrics over 5 s with the terminal focused).
// P4 throughput: `head -c <N MiB> /dev/zero | base64` in the SSH console, then a marker line. MiB/s of
//    terminal output bytes as the page processed them (xterm: bytes handed to term.write until the
//    marker line is in xterm's buffer; raw: bytes received and acked until the marker arrived), for our
//    page, the ttyd-like page and our raw socket. The two xterm pages each get two floods of N/2 MiB, in
//    the order ours, ttyd-like, ttyd-like, ours (the machine's load drifts over minutes); during each xterm
//    flood, a click every 500 ms on a toolbar button (ours: Copy; ttyd-like: a Copy button the bench page
//    adds): how long Playwright's click took and how late the page's click handler ran
//    (performance.now() − event.timeStamp). Also the host CPU per MiB by process group (panel, ttyd-like
//    server, browser, ssh ControlMaster, QEMU; from /proc): under TCG, host CPU the guest does not get.
//    A last figure is the ceiling without any web terminal: the same command through the system `ssh -tt`
//    (lab ssh_config) into a pipe — under TCG the guest's pty + dropbear set the pace.
// --ceiling adds where the web terminals top out on this machine without the guest: the same bytes fed
//    straight into each page's xterm (no socket), and a host bash behind a ttyd-like server (xterm page and
//    raw socket) running the flood command — the panel itself only opens shells in VMs.
// Under TCG the guest itself (echo, base64, dropbear's crypto) is a large part of every figure.
import { accelLabels } from './accel.ts';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { chromium, type Locator, type Page } from '@playwright/test';
import globalSetup from '../e2e/global-setup.ts';
import { CHROMIUM, CHROMIUM_ARGS, readPanel, sessionCookie, trpcCall, type PanelInfo } from '../e2e/harness.ts';
import { LabHome } from '../server/lab/home.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = path.join(ROOT, 'bench', 'results', 'terminal-latency.json');
const VM = 'bench-term';
const WARMUP = 10;

const { values: opts } = parseArgs({
  options: {
    samples: { type: 'string', default: '200' },
    'flood-mib': { type: 'string', default: '64' },
    'skip-flood': { type: 'boolean', default: false },
    ceiling: { type: 'boolean', default: false },
    ab: { type: 'boolean', default: false },
    'ab-samples': { type: 'string', default: '100' },
    rounds: { type: 'string', default: '4' },
  },
});
const SAMPLES = Number(opts.samples);
const AB_SAMPLES = Number(opts['ab-samples']);
const FLOOD_MIB = Number(opts['flood-mib']);
const ROUNDS = Math.max(1, Number(opts.rounds));
const T0 = Date.now();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Stats { n: number; p50: number; p95: number; mean: number; min: number; max: number }
function stats(xs: number[]): Stats {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return { n: 0, p50: NaN, p95: NaN, mean: NaN, min: NaN, max: NaN };
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  const r = (x: number) => Math.round(x * 10) / 10;
  return { n: s.length, p50: r(q(0.5)), p95: r(q(0.95)), mean: r(s.reduce((a, b) => a + b, 0) / s.length), min: r(s[0]), max: r(s[s.length - 1]) };
}
const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
const r2 = (x: number) => Math.round(x * 100) / 100;

function ttydAvailability(): { available: boolean; policy: string } {
  let policy = '';
  try { policy = execFileSync('apt-cache', ['policy', 'ttyd'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }); } catch (e) { policy = String((e as Error).message); }
  const cand = /Candidate:\s*(\S+)/.exec(policy)?.[1];
  return { available: !!cand && cand !== '(none)', policy: policy.trim() || '(apt-cache printed nothing: no such package)' };
}

const loads: { at: string; phase: string; load1: number }[] = [];
function mark(phase: string): void {
  const load1 = Math.round(os.loadavg()[0] * 100) / 100;
  loads.push({ at: new Date().toISOString(), phase, load1 });
  console.error(`[bench] ${phase} (load ${load1})`);
}

let cookie = '';
const trpc = <T = unknown>(panel: PanelInfo, kind: 'query' | 'mutation', proc: string, input: unknown) => trpcCall<T>(panel, cookie, kind, proc, input);

async function waitLog(panel: PanelInfo, re: RegExp, ms = 180_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (re.test((await trpc<{ data: string }>(panel, 'query', 'vm.log', { name: VM, offset: 0, limit: 1 << 20 })).data)) return;
    await sleep(500);
  }
  throw new Error(`${VM}: no ${re} in the console log within ${ms / 1000} s`);
}

// ---------------------------------------------------------------------------------------------------
// The ttyd-like server: its own process, like ttyd.

interface TtydLikeProc { url: string; child: ChildProcess; stop(): Promise<void> }

async function startTtydLike(command: string[], cwd: string, title: string): Promise<TtydLikeProc> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/ttyd-like/server.ts'), '--cwd', cwd, '--title', title, '--', ...command],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('ttyd-like: no "listening" line within 60 s')), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`ttyd-like exited ${code}`)); });
  });
  child.stdout!.resume();
  return {
    url, child,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) { resolve(); return; }
      const t = setTimeout(() => { try { child.kill('SIGKILL'); } catch { /* gone */ } }, 5000);
      child.once('exit', () => { clearTimeout(t); resolve(); });
      child.kill('SIGTERM');
    }),
  };
}

// ---------------------------------------------------------------------------------------------------
// In-page probes, the same in every page of the context (ours and ttyd-like).

const PROBE_INIT = `
window.__name = (f) => f; // tsx (esbuild keepNames) wraps functions passed to evaluate() in __name()
(() => {
  const P = { armed: false, t0: 0, send: 0, msg: 0, ack: 0, rafStart: 0, rafTs: 0, commits: 0 };
  window.__probe = P;
  const W = window.WebSocket;
  const send = W.prototype.send;
  W.prototype.send = function (d) {
    if (P.armed) {
      const now = performance.now();
      if (typeof d === 'string') { if (!P.ack && d.includes('"ack"')) P.ack = now; }
      else if (!P.send) P.send = now;
    }
    return send.call(this, d);
  };
  window.WebSocket = class extends W {
    constructor(...a) {
      super(...a);
      this.addEventListener('message', (ev) => { if (P.armed && P.send && !P.msg && typeof ev.data !== 'string') P.msg = performance.now(); });
    }
  };
  const raf = window.requestAnimationFrame.bind(window);
  window.requestAnimationFrame = (cb) => raf((ts) => { P.rafStart = performance.now(); P.rafTs = ts; cb(ts); });
  // React reports every commit to the devtools hook, production builds included.
  window.__REACT_DEVTOOLS_GLOBAL_HOOK__ = {
    supportsFiber: true, isDisabled: false, renderers: new Map(),
    inject(r) { const id = this.renderers.size + 1; this.renderers.set(id, r); return id; },
    onCommitFiberRoot() { P.commits++; }, onCommitFiberUnmount() {}, onPostCommitFiberRoot() {}, onScheduleFiberRoot() {}, checkDCE() {},
  };
})();
`;

/** The xterm on a page: `<label>-xterm` holds it (ours: ssh, serial; the ttyd-like page: ttyd). */
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
  throw new Error(`no shell prompt in the ${label} terminal; last lines: ${JSON.stringify(await lastLines(page, label, 5).catch(() => []))}`);
}

/** The terminal's size and options; React commits since the page loaded (0 on the plain page: the probe's sanity check). */
async function termInfo(page: Page, label: string): Promise<{ cols: number; rows: number; cursorBlink: boolean; fontSize: number; reactCommitsSinceLoad: number }> {
  return page.evaluate((l) => {
    const t = (document.querySelector(`[data-testid="${l}-xterm"]`) as unknown as { __xterm: import('@xterm/xterm').Terminal }).__xterm;
    const commits = (window as unknown as { __probe: { commits: number } }).__probe.commits;
    return { cols: t.cols, rows: t.rows, cursorBlink: !!t.options.cursorBlink, fontSize: t.options.fontSize ?? 0, reactCommitsSinceLoad: commits };
  }, label);
}

async function setOption(page: Page, label: string, key: 'cursorBlink', value: boolean): Promise<void> {
  await page.evaluate(([l, k, v]) => {
    const t = (document.querySelector(`[data-testid="${l}-xterm"]`) as unknown as { __xterm: import('@xterm/xterm').Terminal }).__xterm;
    (t.options as Record<string, unknown>)[k as string] = v;
  }, [label, key, value] as const);
}

interface IdleCost { seconds: number; styleRecalcsPerSec: number; layoutsPerSec: number; mainThreadTaskMsPerSec: number }

/** The renderer's main-thread work while the focused terminal sits idle (CDP Performance metrics). */
async function idleCost(page: Page, label: string, ms: number): Promise<IdleCost> {
  await page.bringToFront();
  await page.getByTestId(`${label}-xterm`).click();
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send('Performance.enable');
    const get = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value])) as Record<string, number>;
    await sleep(1000);
    const a = await get();
    await sleep(ms);
    const z = await get();
    const s = ms / 1000;
    const per = (k: string, f = 1) => Math.round(((z[k] - a[k]) * f / s) * 10) / 10;
    return { seconds: s, styleRecalcsPerSec: per('RecalcStyleCount'), layoutsPerSec: per('LayoutCount'), mainThreadTaskMsPerSec: per('TaskDuration', 1000) };
  } finally {
    await cdp.detach().catch(() => {});
  }
}

/** CPU time (ms, user + system) a process has used so far; NaN if it is gone. */
function cpuMs(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime, stime in USER_HZ (100)
  } catch { return NaN; }
}

/** What else happened while an echo block ran: the panel's and the ttyd-like servers' CPU, the pages' HTTP requests. */
interface BlockLog { what: string; start: number; seconds: number; panelCpuMs: number; ttydLikeCpuMs: number; requests: string[] }
const blocks: BlockLog[] = [];
const requests: { t: number; page: string; url: string }[] = [];
const pids: { panel?: number; ttyd: number[]; guest?: number; home?: string } = { ttyd: [] };
const ttydCpu = () => pids.ttyd.reduce((a, p) => a + (cpuMs(p) || 0), 0);

/**
 * CPU time (ms) used so far by the live processes of this bench, by group: the panel (its node process and
 * the ssh clients it runs), the ttyd-like servers (theirs), the browser (every chromium process), the guest
 * (QEMU), and the ssh ControlMaster all sessions share (it daemonizes out of whichever tree started it:
 * the lab's ssh_config has ControlMaster auto + ControlPersist). A flood's cost on the host, which under
 * TCG is CPU the guest does not get.
 */
type CpuGroups = Record<'panel' | 'ttydLike' | 'browser' | 'guest' | 'sshMaster', number>;
function cpuGroups(): CpuGroups {
  const parent = new Map<number, number>();
  const cpu = new Map<number, number>();
  const comm = new Map<number, string>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(d), Number(f[1]));
      cpu.set(Number(d), ((Number(f[11]) + Number(f[12])) * 1000) / 100);
      comm.set(Number(d), stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')));
    } catch { /* gone */ }
  }
  const under = (pid: number, root: number) => { for (let p = pid, i = 0; p > 1 && i < 64; p = parent.get(p) ?? 0, i++) if (p === root) return true; return false; };
  const out: CpuGroups = { panel: 0, ttydLike: 0, browser: 0, guest: 0, sshMaster: 0 };
  for (const [pid, ms] of cpu) {
    if (pids.panel && under(pid, pids.panel)) out.panel += ms;
    else if (pids.ttyd.some((t) => under(pid, t))) out.ttydLike += ms;
    else if (pid === pids.guest) out.guest += ms;
    else if (under(pid, process.pid) && /chrom/i.test(comm.get(pid) ?? '')) out.browser += ms;
    else if (comm.get(pid) === 'ssh' && pids.home && !under(pid, process.pid)) {
      let cmd = '';
      try { cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { /* gone */ }
      if (cmd.includes(pids.home)) out.sshMaster += ms;
    }
  }
  return out;
}

/** One keystroke, from its keydown. Times in ms after the keydown handler ran. */
interface EchoSample {
  rendered: number; inputDelay: number; send: number; msg: number; write: number; parsed: number;
  frame: number; rafStart: number; renderMs: number; ack: number; commits: number; mutations: number;
  /** Wall clock (ms since the epoch) of the keydown. */
  wall: number;
}

const STAGES = ['inputDelay', 'send', 'msg', 'write', 'parsed', 'frame', 'rafStart', 'rendered', 'renderMs', 'ack', 'commits', 'mutations'] as const;
type StageStats = Record<(typeof STAGES)[number], Stats>;
function stageStats(xs: EchoSample[]): StageStats {
  return Object.fromEntries(STAGES.map((k) => [k, stats(xs.map((x) => x[k]))])) as StageStats;
}

/** P3 in xterm, one block of n keys: real key presses, timed in the page from keydown to the render that shows the echo. */
async function xtermEcho(page: Page, label: string, n: number): Promise<EchoSample[]> {
  const b0 = { t: Date.now(), panel: cpuMs(pids.panel), ttyd: ttydCpu() };
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
  blocks.push({ what: `${label} xterm, ${n} keys`, start: r2((b0.t - T0) / 1000), seconds: r2((t1 - b0.t) / 1000),
    panelCpuMs: cpuMs(pids.panel) - b0.panel, ttydLikeCpuMs: ttydCpu() - b0.ttyd,
    requests: requests.filter((q) => q.t >= b0.t && q.t <= t1).map((q) => `${r2((q.t - T0) / 1000)} ${q.page} ${q.url}`) });
  return (out as unknown as EchoSample[]).slice(WARMUP);
}

type Proto = 'panel' | 'ttyd';

/** P3 without xterm: a plain WebSocket from the same page to the same endpoint, in that endpoint's protocol. */
async function rawEcho(page: Page, wsUrl: string, proto: Proto): Promise<number[]> {
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
  }, [wsUrl, proto, SAMPLES, WARMUP, VM] as const);
}

const floodCommand = (mib: number) => `head -c ${Math.round(mib * 1024 * 1024)} /dev/zero | base64; echo FLOOD-$((1+1))`;

interface FloodResult {
  bytes: number; seconds: number; mibPerSec: number;
  /** Output frames (WebSocket messages / term.write calls) and their mean size. */
  frames?: number; meanFrameBytes?: number;
  clicks?: { n: number; clickMs: Stats; handlerDelayMs: Stats };
  /** xterm floods run in parts, alternating ours / ttyd-like (A B B A): each part's figures. */
  parts?: { bytes: number; seconds: number; mibPerSec: number; load1: number; hostCpuMsPerMiB: CpuGroups }[];
  /** Host CPU per MiB of output, by process group (see cpuGroups), over all parts. */
  hostCpuMsPerMiB?: CpuGroups;
}

interface FloodPart { bytes: number; frames: number; ms: number; clickMs: number[]; delays: number[]; load1: number; cpu: CpuGroups }
function perMiB(cpu: CpuGroups, bytes: number): CpuGroups {
  const m = bytes / (1 << 20);
  return { panel: Math.round(cpu.panel / m), ttydLike: Math.round(cpu.ttydLike / m), browser: Math.round(cpu.browser / m), guest: Math.round(cpu.guest / m), sshMaster: Math.round(cpu.sshMaster / m) };
}
const cpuDiff = (a: CpuGroups, b: CpuGroups): CpuGroups => ({ panel: b.panel - a.panel, ttydLike: b.ttydLike - a.ttydLike, browser: b.browser - a.browser, guest: b.guest - a.guest, sshMaster: b.sshMaster - a.sshMaster });

function floodSummary(parts: FloodPart[]): FloodResult {
  const bytes = parts.reduce((a, p) => a + p.bytes, 0);
  const seconds = parts.reduce((a, p) => a + p.ms, 0) / 1000;
  const clickMs = parts.flatMap((p) => p.clickMs);
  const delays = parts.flatMap((p) => p.delays);
  const frames = parts.reduce((a, p) => a + p.frames, 0);
  return {
    bytes, seconds: r2(seconds), mibPerSec: r2(bytes / (1 << 20) / seconds), frames, meanFrameBytes: Math.round(bytes / frames),
    clicks: { n: clickMs.length, clickMs: stats(clickMs), handlerDelayMs: stats(delays.length ? delays : [0]) },
    parts: parts.map((p) => ({ bytes: p.bytes, seconds: r2(p.ms / 1000), mibPerSec: r2(p.bytes / (1 << 20) / (p.ms / 1000)), load1: p.load1, hostCpuMsPerMiB: perMiB(p.cpu, p.bytes) })),
    hostCpuMsPerMiB: perMiB(parts.reduce((a, p) => cpuDiff({ panel: -a.panel, ttydLike: -a.ttydLike, browser: -a.browser, guest: -a.guest, sshMaster: -a.sshMaster }, p.cpu),
      { panel: 0, ttydLike: 0, browser: 0, guest: 0, sshMaster: 0 }), bytes),
  };
}

/** P4 in xterm: bytes through term.write until the marker line is in the buffer; clicks meanwhile. */
async function xtermFlood(page: Page, label: string, button: Locator, mib: number): Promise<FloodPart> {
  await page.bringToFront();
  const load1 = r2(os.loadavg()[0]);
  const c0 = cpuGroups();
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
  return { bytes: f.bytes, frames: f.writes, ms: f.t1 - f.t0, clickMs, delays: f.delays, load1, cpu: cpuDiff(c0, cpuGroups()) };
}

/** P4 without xterm: a plain WebSocket (fresh SSH session) from the same page, acking every frame. */
async function rawFlood(page: Page, wsPath: string, mib: number): Promise<FloodResult> {
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
  return { bytes: r.bytes, seconds: r2(seconds), mibPerSec: r2(r.bytes / (1 << 20) / seconds), frames: r.frames, meanFrameBytes: Math.round(r.bytes / r.frames) };
}

/** P4 ceiling without a web terminal: the same command through the system ssh -tt into a pipe (first byte → exit). */
async function directSshFlood(sshCmd: string[], mib: number): Promise<FloodResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(sshCmd[0], [...sshCmd.slice(1), floodCommand(mib)], { stdio: ['pipe', 'pipe', 'inherit'] });
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

/**
 * Ceiling, browser only: the same kind of bytes (base64 lines, ~3 KiB per write like the pty frames) fed
 * straight into a page's xterm — no socket, no server, no guest. Keeps up to 256 writes in flight and
 * refills from xterm's write callbacks. MiB/s until the last write is parsed.
 */
async function feedXterm(page: Page, label: string, mib: number): Promise<{ mibPerSec: number; seconds: number }> {
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
async function rawFloodTtyd(page: Page, wsUrl: string, mib: number): Promise<FloodResult> {
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
  return { bytes: r.bytes, seconds: r2(r.ms / 1000), mibPerSec: r2(r.bytes / (1 << 20) / (r.ms / 1000)), frames: r.frames, meanFrameBytes: Math.round(r.bytes / r.frames) };
}

/** A run, again on a fresh session if ssh gave up before the shell prompt (slow guest). */
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
  return `  ${what.padEnd(40)} p50 ${String(s.p50).padStart(6)} ms   p95 ${String(s.p95).padStart(6)} ms   (n=${s.n}, min ${s.min}, max ${s.max})`;
}

function stageLine(st: StageStats): string {
  const f = (k: keyof StageStats) => `${k} ${st[k].p50}`;
  return `      stages p50 (ms after keydown): ${['inputDelay', 'send', 'msg', 'write', 'parsed', 'frame', 'rafStart', 'rendered'].map((k) => f(k as keyof StageStats)).join(', ')}`
    + `; render ${st.renderMs.p50} ms; ack ${st.ack.p50}; React commits/key max ${st.commits.max}; outside DOM mutations/key max ${st.mutations.max}`;
}

interface Variant { xterm: Stats; pageShare: Stats; stages: StageStats; raw?: Stats; term: Awaited<ReturnType<typeof termInfo>> }
/** pageShare: the echo's frame arriving in the page → the echo on screen (what the page itself adds; the rest is input, server, guest). */
const variant = (s: EchoSample[], term: Variant['term'], raw?: number[]): Variant =>
  ({ xterm: stats(s.map((x) => x.rendered)), pageShare: stats(s.map((x) => x.rendered - x.msg)), stages: stageStats(s), ...(raw ? { raw: stats(raw) } : {}), term });

async function main(): Promise<void> {
  const ttyd = ttydAvailability();
  mark('setup');
  const teardown = await globalSetup({} as never);
  const panel = readPanel();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const servers: TtydLikeProc[] = [];
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
    mark(`${VM} is up`);

    // The commands the ttyd-like server runs: the panel's ssh argv (+ -tt, as the web terminal adds it), and socat on the serial socket.
    const { argv } = await trpc<{ argv: string[] }>(panel, 'query', 'vm.sshCommand', { name: VM });
    const sshCmd = [...argv.slice(0, -1), '-tt', argv[argv.length - 1]];
    const serialSock = new LabHome(panel.home).vmSerial(VM);
    const serialCmd = ['socat', '-,raw,echo=0', `UNIX-CONNECT:${serialSock}`];
    const ttydSsh = await startTtydLike(sshCmd, panel.home, VM);
    servers.push(ttydSsh);
    const ttydSerial = await startTtydLike(serialCmd, panel.home, `${VM} serial`);
    servers.push(ttydSerial);
    pids.panel = panel.pid;
    pids.home = panel.home;
    try { pids.guest = Number(fs.readFileSync(path.join(panel.home, 'pids', `${VM}.pid`), 'utf8').trim()) || undefined; } catch { /* no pid file */ }
    pids.ttyd = servers.map((x) => x.child.pid!).filter(Boolean);

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.addInitScript(PROBE_INIT);
    const ours = await context.newPage();
    await ours.goto(panel.launchUrl);
    const theirs = await context.newPage();
    for (const [name, pg] of [['ours', ours], ['ttyd-like', theirs]] as const) {
      pg.on('request', (r) => { if (!r.url().startsWith('data:')) requests.push({ t: Date.now(), page: name, url: `${r.method()} ${r.url().replace(/^https?:\/\/127\.0\.0\.1:\d+/, '').slice(0, 120)}` }); });
    }

    // Serial: the ttyd-like first (QEMU's serial socket has one client at a time; the panel keeps its connection).
    mark('P3 serial, ttyd-like xterm');
    await theirs.goto(ttydSerial.url);
    await theirs.getByTestId('ttyd-xterm').click();
    await theirs.keyboard.press('Enter');
    await waitPrompt(theirs, 'ttyd');
    const serialTtyd = await xtermEcho(theirs, 'ttyd', SAMPLES);
    const serialTtydTerm = await termInfo(theirs, 'ttyd');
    await theirs.goto('about:blank');
    await sleep(1000);
    mark('P3 serial, ttyd-like raw websocket');
    const serialTtydRaw = await (async () => {
      await theirs.goto(ttydSerial.url.replace(/\/$/, '/nonexistent')); // same origin, no terminal of its own
      return retrying('serial ttyd-like raw', () => rawEcho(theirs, `${ttydSerial.url.replace('http', 'ws')}ws`, 'ttyd'));
    })();
    await theirs.goto('about:blank');
    await sleep(1000);

    mark('P3 serial, our xterm');
    await ours.bringToFront();
    await ours.goto(`${panel.baseURL}/vms/${VM}/serial`);
    await ours.getByTestId('serial-state').and(ours.locator('[data-phase="live"]')).waitFor();
    await ours.getByTestId('serial-xterm').click();
    await ours.keyboard.press('Enter');
    await waitPrompt(ours, 'serial');
    const serialOurs = await xtermEcho(ours, 'serial', SAMPLES);
    const serialOursTerm = await termInfo(ours, 'serial');
    await ours.goto(`${panel.baseURL}/setup`);
    mark('P3 serial, our raw websocket');
    const serialOursRaw = await retrying('serial raw', () => rawEcho(ours, `ws://127.0.0.1:${panel.port}/ws/serial/${VM}`, 'panel'));

    // SSH: both pages open, xterm blocks alternating ours / ttyd-like.
    await ours.goto(`${panel.baseURL}/vms/${VM}/console`);
    await waitPrompt(ours, 'ssh');
    await theirs.goto(ttydSsh.url);
    await waitPrompt(theirs, 'ttyd');
    const sshOurs: EchoSample[] = [];
    const sshTtyd: EchoSample[] = [];
    const part = Math.ceil(SAMPLES / ROUNDS);
    for (let round = 1; round <= ROUNDS; round++) {
      mark(`P3 ssh, our xterm (${round}/${ROUNDS})`);
      sshOurs.push(...await xtermEcho(ours, 'ssh', part));
      await waitPrompt(ours, 'ssh');
      mark(`P3 ssh, ttyd-like xterm (${round}/${ROUNDS})`);
      sshTtyd.push(...await xtermEcho(theirs, 'ttyd', part));
      await waitPrompt(theirs, 'ttyd');
    }
    const sshOursTerm = await termInfo(ours, 'ssh');
    const sshTtydTerm = await termInfo(theirs, 'ttyd');

    let ab: Record<string, Variant> | null = null;
    let idle: Record<string, IdleCost> | null = null;
    if (opts.ab) {
      // One option flipped at run time, on each page: its cursor blink (ours and ttyd-like differ there).
      const oursBlink = sshOursTerm.cursorBlink;
      const ttydBlink = sshTtydTerm.cursorBlink;
      const abPart = Math.ceil(AB_SAMPLES / ROUNDS);
      const oursFlipped: EchoSample[] = [];
      const ttydFlipped: EchoSample[] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        mark(`A/B ssh, our xterm with cursorBlink ${!oursBlink} (${round}/${ROUNDS})`);
        await setOption(ours, 'ssh', 'cursorBlink', !oursBlink);
        oursFlipped.push(...await xtermEcho(ours, 'ssh', abPart));
        await setOption(ours, 'ssh', 'cursorBlink', oursBlink);
        await waitPrompt(ours, 'ssh');
        mark(`A/B ssh, ttyd-like xterm with cursorBlink ${!ttydBlink} (${round}/${ROUNDS})`);
        await setOption(theirs, 'ttyd', 'cursorBlink', !ttydBlink);
        ttydFlipped.push(...await xtermEcho(theirs, 'ttyd', abPart));
        await setOption(theirs, 'ttyd', 'cursorBlink', ttydBlink);
        await waitPrompt(theirs, 'ttyd');
      }
      ab = {
        [`ours, cursorBlink ${!oursBlink ? 'on' : 'off'}`]: variant(oursFlipped, { ...sshOursTerm, cursorBlink: !oursBlink }),
        [`ttyd-like, cursorBlink ${!ttydBlink ? 'on' : 'off'}`]: variant(ttydFlipped, { ...sshTtydTerm, cursorBlink: !ttydBlink }),
      };
      mark('idle cost of the cursor blink, our page');
      idle = {};
      for (const blink of [false, true]) {
        await setOption(ours, 'ssh', 'cursorBlink', blink);
        idle[`ours, cursorBlink ${blink ? 'on' : 'off'}`] = await idleCost(ours, 'ssh', 5000);
      }
      await setOption(ours, 'ssh', 'cursorBlink', oursBlink);
    }

    let flood: Record<string, FloodResult | null> | null = null;
    if (!opts['skip-flood']) {
      // Two parts of half the size each, in the order ours, ttyd-like, ttyd-like, ours: a load trend hits both alike.
      const halfMib = FLOOD_MIB / 2;
      const oursParts: FloodPart[] = [];
      const ttydParts: FloodPart[] = [];
      const copyOurs = ours.getByTitle('Copy the selection (Ctrl+Shift+C)');
      const copyTtyd = theirs.locator('#bench-click');
      mark(`P4 ssh flood ${halfMib} MiB, our xterm (1/2)`);
      oursParts.push(await xtermFlood(ours, 'ssh', copyOurs, halfMib));
      await waitPrompt(ours, 'ssh');
      mark(`P4 ssh flood ${halfMib} MiB, ttyd-like xterm (1/2)`);
      ttydParts.push(await xtermFlood(theirs, 'ttyd', copyTtyd, halfMib));
      await waitPrompt(theirs, 'ttyd');
      mark(`P4 ssh flood ${halfMib} MiB, ttyd-like xterm (2/2)`);
      ttydParts.push(await xtermFlood(theirs, 'ttyd', copyTtyd, halfMib));
      mark(`P4 ssh flood ${halfMib} MiB, our xterm (2/2)`);
      oursParts.push(await xtermFlood(ours, 'ssh', copyOurs, halfMib));
      flood = { ours: floodSummary(oursParts), ttydLike: floodSummary(ttydParts) };
    }

    await theirs.goto('about:blank');
    await ours.goto(`${panel.baseURL}/setup`);
    mark('P3 ssh, our raw websocket');
    const sshOursRaw = await retrying('ssh raw', () => rawEcho(ours, `ws://127.0.0.1:${panel.port}/ws/ssh/${VM}?session=benchraw${Date.now()}&cols=120&rows=40`, 'panel'));
    mark('P3 ssh, ttyd-like raw websocket');
    await theirs.goto(ttydSsh.url.replace(/\/$/, '/nonexistent'));
    const sshTtydRaw = await retrying('ssh ttyd-like raw', () => rawEcho(theirs, `${ttydSsh.url.replace('http', 'ws')}ws`, 'ttyd'));
    if (flood) {
      mark(`P4 ssh flood ${FLOOD_MIB} MiB, our raw websocket`);
      const withCpu = async (run: () => Promise<FloodResult>): Promise<FloodResult> => {
        const c0 = cpuGroups();
        const f = await run();
        return { ...f, hostCpuMsPerMiB: perMiB(cpuDiff(c0, cpuGroups()), f.bytes) };
      };
      flood.oursRaw = await withCpu(() => retrying('ssh raw flood', () => rawFlood(ours, `/ws/ssh/${VM}?session=benchflood${Date.now()}&cols=120&rows=40`, FLOOD_MIB)));
      mark(`P4 ssh flood ${FLOOD_MIB} MiB, system ssh -tt without a web terminal`);
      flood.directSsh = await withCpu(() => retrying('system ssh flood', () => directSshFlood(sshCmd, FLOOD_MIB)));
    }
    let ceiling: Record<string, unknown> | null = null;
    if (opts.ceiling) {
      // Where the web terminals top out on this machine without the TCG guest: a host shell behind a
      // ttyd-like server (xterm page and raw socket), and xterm alone (bytes fed inside the page).
      const host = await startTtydLike(['bash', '--norc', '--noprofile', '-i'], os.tmpdir(), 'host shell');
      servers.push(host);
      pids.ttyd.push(host.child.pid!);
      mark(`ceiling: ${FLOOD_MIB} MiB fed straight into each page's xterm`);
      await ours.goto(`${panel.baseURL}/vms/${VM}/console`);
      await waitPrompt(ours, 'ssh');
      await theirs.goto(host.url);
      await sleep(1500);
      const feedOurs = await feedXterm(ours, 'ssh', FLOOD_MIB);
      const feedTtyd = await feedXterm(theirs, 'ttyd', FLOOD_MIB);
      mark(`ceiling: host shell flood ${FLOOD_MIB} MiB, ttyd-like xterm`);
      const hostXterm = floodSummary([await xtermFlood(theirs, 'ttyd', theirs.locator('#bench-click'), FLOOD_MIB)]);
      mark(`ceiling: host shell flood ${FLOOD_MIB} MiB, ttyd-like raw websocket`);
      await theirs.goto(host.url.replace(/\/$/, '/nonexistent'));
      const hostRaw = await rawFloodTtyd(theirs, `${host.url.replace('http', 'ws')}ws`, FLOOD_MIB);
      ceiling = {
        note: 'no guest: a host bash behind a ttyd-like server (only the baseline can run a host command; the panel only opens shells in VMs), and bytes fed straight into each page\'s xterm',
        xtermFedInPage: { ours: feedOurs, ttydLike: feedTtyd },
        hostShellFlood: { ttydLikeXterm: hostXterm, ttydLikeRaw: hostRaw },
      };
    }
    mark('done');

    const p3 = {
      serial: {
        ours: variant(serialOurs, serialOursTerm, serialOursRaw),
        ttydLike: variant(serialTtyd, serialTtydTerm, serialTtydRaw),
        ratioOursToTtydLike: { p50: ratio(stats(serialOurs.map((x) => x.rendered)).p50, stats(serialTtyd.map((x) => x.rendered)).p50),
          p95: ratio(stats(serialOurs.map((x) => x.rendered)).p95, stats(serialTtyd.map((x) => x.rendered)).p95) },
      },
      ssh: {
        ours: variant(sshOurs, sshOursTerm, sshOursRaw),
        ttydLike: variant(sshTtyd, sshTtydTerm, sshTtydRaw),
        ratioOursToTtydLike: { p50: ratio(stats(sshOurs.map((x) => x.rendered)).p50, stats(sshTtyd.map((x) => x.rendered)).p50),
          p95: ratio(stats(sshOurs.map((x) => x.rendered)).p95, stats(sshTtyd.map((x) => x.rendered)).p95) },
      },
      ab,
      idleCostOfCursorBlink: idle,
    };
    // Every keystroke in order: [seconds since the bench started, keydown → rendered ms, keydown → echo frame ms].
    const series = (xs: EchoSample[]) => xs.map((x) => [r2((x.wall - T0) / 1000), r2(x.rendered), r2(x.msg)]);
    const load1 = loads.map((l) => l.load1);
    const result = {
      at: new Date().toISOString(),
      host: { cpus: os.cpus().length, model: os.cpus()[0]?.model, accelerator: await accelLabels(),
        load1: { min: Math.min(...load1), max: Math.max(...load1), byPhase: loads } },
      ttyd: { ...ttyd, note: ttyd.available ? 'ttyd has an apt candidate but this script compares with the ttyd-like baseline only' : 'ttyd is not in the apt archive: compared with a ttyd-equivalent instead (baseline below)' },
      baseline: {
        name: 'ttyd-like',
        isTtyd: false,
        what: 'a ttyd-EQUIVALENT built from the same parts, NOT ttyd: bench/ttyd-like/ — its own Node process on 127.0.0.1, node-pty running the command on a fresh pty per WebSocket, ttyd\'s wire protocol and client flow control (pause/resume around term.write callbacks: limit 100000 B, highWater 10, lowWater 4), a plain static page with the same @xterm/xterm and addon-fit and ttyd\'s terminal options (fontSize 13, its theme, xterm defaults otherwise: cursorBlink off), DOM renderer',
        differsFromTtyd: 'server in Node (ttyd: C, libwebsockets + libuv); DOM renderer (ttyd asks for WebGL; the bench browser has --disable-gpu and no WebGL addon is installed); no web-links/overlay/zmodem addons; a Copy button added for the click probe',
        sshCommand: sshCmd,
        serialCommand: serialCmd,
        serialNote: `the panel reads the QEMU serial socket directly (no pty); ttyd needs a command on a pty, so socat bridges the socket (raw, no echo). The ttyd-like serial runs happen before the panel's (QEMU's socket serves one client at a time), so they are not interleaved; the SSH runs are (${ROUNDS} blocks each, alternating)`,
      },
      samples: SAMPLES,
      method: 'P3: real key presses (Playwright) in each page; keydown (window capture listener) → xterm onRender showing the cursor moved; stages from the same keydown. raw: ws.send → first binary frame containing the echo, from a plain WebSocket in the same browser',
      p3,
      p4: flood ? {
        command: `${floodCommand(FLOOD_MIB)} for the raw socket and the system ssh; for the xterm pages two runs of ${floodCommand(FLOOD_MIB / 2)}`,
        ...flood,
        ratioOursToTtydLike: flood.ours && flood.ttydLike ? ratio(flood.ours.mibPerSec, flood.ttydLike.mibPerSec) : null,
      } : null,
      blocks,
      ceiling,
      series: {
        serial: { ours: series(serialOurs), ttydLike: series(serialTtyd) },
        ssh: { ours: series(sshOurs), ttydLike: series(sshTtyd) },
      },
    };
    fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
    fs.writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`);

    console.log(`terminal latency (${result.host.cpus} CPUs, TCG guest; 1-min load ${result.host.load1.min}–${result.host.load1.max} during the run)`);
    console.log(ttyd.available ? 'ttyd: has an apt candidate (not run here)' : 'ttyd: NOT in the apt archive (`apt-cache policy ttyd`: no candidate)');
    console.log('baseline "ttyd-like": a ttyd-equivalent built from the same parts (bench/ttyd-like/), NOT ttyd');
    console.log(`P3 keystroke → echo on screen, ${SAMPLES} samples each`);
    for (const [con, c] of [['serial', p3.serial], ['ssh', p3.ssh]] as const) {
      console.log(row(`${con}: our page (xterm)`, c.ours.xterm));
      console.log(stageLine(c.ours.stages));
      console.log(row(`${con}: ttyd-like page (xterm)`, c.ttydLike.xterm));
      console.log(stageLine(c.ttydLike.stages));
      console.log(`  ${con}: ratio ours / ttyd-like: p50 ${c.ratioOursToTtydLike.p50}, p95 ${c.ratioOursToTtydLike.p95}`);
      console.log(`  ${con}: page share (echo frame in → on screen) p50/p95: ours ${c.ours.pageShare.p50}/${c.ours.pageShare.p95} ms, ttyd-like ${c.ttydLike.pageShare.p50}/${c.ttydLike.pageShare.p95} ms`);
      console.log(row(`${con}: our endpoint, raw websocket`, c.ours.raw!));
      console.log(row(`${con}: ttyd-like endpoint, raw websocket`, c.ttydLike.raw!));
    }
    if (ab) {
      console.log('A/B (ssh, one xterm option changed at run time by the bench):');
      for (const [k, v] of Object.entries(ab)) { console.log(row(k, v.xterm)); console.log(stageLine(v.stages)); }
    }
    if (idle) {
      for (const [k, v] of Object.entries(idle)) console.log(`  idle, ${k}: ${v.styleRecalcsPerSec} style recalcs/s, ${v.layoutsPerSec} layouts/s, main-thread tasks ${v.mainThreadTaskMsPerSec} ms/s`);
    }
    if (result.p4) {
      console.log(`P4 throughput: ${result.p4.command}`);
      for (const [k, f] of [['our page (xterm)', flood!.ours], ['ttyd-like page (xterm)', flood!.ttydLike], ['our endpoint, raw websocket', flood!.oursRaw], ['system ssh -tt, no web terminal', flood!.directSsh]] as const) {
        if (!f) continue;
        console.log(`  ${k.padEnd(34)} ${f.mibPerSec} MiB/s (${(f.bytes / (1 << 20)).toFixed(1)} MiB in ${f.seconds} s${f.frames ? `; ${f.frames} frames, ${f.meanFrameBytes} B each on average` : ''})`);
        if (f.hostCpuMsPerMiB) console.log(`    host CPU per MiB: panel ${f.hostCpuMsPerMiB.panel} ms, ttyd-like server ${f.hostCpuMsPerMiB.ttydLike} ms, browser ${f.hostCpuMsPerMiB.browser} ms, ssh master ${f.hostCpuMsPerMiB.sshMaster} ms, guest (QEMU) ${f.hostCpuMsPerMiB.guest} ms`);
        if (f.clicks) console.log(`    clicks during the flood: ${f.clicks.n}; Playwright click p50 ${f.clicks.clickMs.p50} ms, max ${f.clicks.clickMs.max} ms; handler delay p50 ${f.clicks.handlerDelayMs.p50} ms, p95 ${f.clicks.handlerDelayMs.p95} ms, max ${f.clicks.handlerDelayMs.max} ms`);
      }
      if (result.p4.ratioOursToTtydLike !== null) console.log(`  ratio ours / ttyd-like: ${result.p4.ratioOursToTtydLike}`);
    }
    if (ceiling) {
      const c = ceiling as { xtermFedInPage: { ours: { mibPerSec: number }; ttydLike: { mibPerSec: number } }; hostShellFlood: { ttydLikeXterm: FloodResult; ttydLikeRaw: FloodResult } };
      console.log('Ceiling without the guest:');
      console.log(`  bytes fed straight into xterm: our page ${c.xtermFedInPage.ours.mibPerSec} MiB/s, ttyd-like page ${c.xtermFedInPage.ttydLike.mibPerSec} MiB/s`);
      for (const [k, f] of [['host shell → ttyd-like xterm', c.hostShellFlood.ttydLikeXterm], ['host shell → ttyd-like raw websocket', c.hostShellFlood.ttydLikeRaw]] as const) {
        console.log(`  ${k.padEnd(38)} ${f.mibPerSec} MiB/s (${(f.bytes / (1 << 20)).toFixed(1)} MiB in ${f.seconds} s; ${f.frames} frames, ${f.meanFrameBytes} B each on average)`);
      }
    }
    console.log(`written: ${path.relative(ROOT, RESULTS)}`);
  } finally {
    for (const s of servers) await s.stop();
    await trpc(panel, 'mutation', 'vm.clean', { name: VM }).catch((e: unknown) => console.error(`[bench] clean: ${(e as Error).message}`));
    await browser.close();
    await teardown();
  }
}

main().catch((e: unknown) => { console.error(e); process.exitCode = 1; });
