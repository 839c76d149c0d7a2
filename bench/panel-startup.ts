// Benchmark: panel cold start and idle footprint. Not a test (DESIGN §5): it prints figures and writes
// bench/results/panel-startup.json. Run on purpose:  npx tsx bench/panel-startup.ts [--runs 5] [--idle 60] [--no-browser]
//
// 1. Cold start, N times: process start → first 200 on the lab page. Each run spawns the server process
//    itself (`node --import tsx server/cli.ts serve`, no npx wrapper), signs in through the launch URL with
//    plain fetch and a one-cookie jar, and GETs `/`. Goal ≤ 5 s.
// 2. Idle: one more panel; the lab page is loaded once (in a real Chromium tab that stays open, so the
//    tRPC subscription socket is live, unless --no-browser), then nothing happens for 60 s. Reports the
//    server process's RSS (/proc/PID/status VmRSS, peak VmHWM) and the CPU time it used meanwhile
//    (/proc/PID/stat utime+stime). Goal ≤ 200 MB RSS; an idle panel should use ~no CPU.
//
// A production build must exist; if .next/BUILD_ID is missing or older than the pages, `next build` runs
// first and is not counted. The lab home is a temp dir under /tmp, created before the timed runs.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../server/lab/vm/allocate.ts';
import { parseArgs } from 'node:util';
import { buildState } from '../server/build.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = path.join(ROOT, 'bench', 'results', 'panel-startup.json');
const GOAL_START_MS = 5_000;
const GOAL_RSS_MB = 200;
const CHROMIUM = process.env.PVMLAB_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'];

const { values: opts } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, idle: { type: 'string', default: '60' }, 'no-browser': { type: 'boolean', default: false } },
});
const RUNS = Number(opts.runs);
const IDLE_S = Number(opts.idle);


/** The same staleness rule as `pvmlab serve` (server/build.ts), so no timed run ends up building. */
function ensureBuild(): void {
  const state = buildState(ROOT);
  if (state === 'fresh') return;
  console.log(state === 'stale' ? 'pages changed since the last build: next build (not counted)…' : 'no production build: next build (not counted)…');
  execFileSync(path.join(ROOT, 'node_modules', '.bin', 'next'), ['build'], { cwd: ROOT, stdio: 'inherit', env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' } });
}

interface Started { child: ChildProcess; port: number; launchUrl: string; openMs: number; t0: number }

/** Spawn the server process itself and wait for its launch URL. */
async function startServer(home: string): Promise<Started> {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli.ts', 'serve', '--port', String(port)], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PVMLAB_HOME: home, NEXT_TELEMETRY_DISABLED: '1' },
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d; });
  const launchUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no launch URL within 120 s:\n${out}\n${err}`)), 120_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const m = /^open: (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)$/m.exec(out);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`panel exited (${code}):\n${out}\n${err}`)); });
  });
  child.stdout!.resume();
  child.removeAllListeners('exit');
  return { child, port, launchUrl, openMs: performance.now() - t0, t0 };
}

/** Sign in like a browser (launch URL → Set-Cookie), then GET the lab page; returns the cookie. */
async function labPage(launchUrl: string): Promise<string> {
  const login = await fetch(launchUrl, { redirect: 'manual' });
  if (login.status !== 302) throw new Error(`launch URL answered ${login.status}`);
  const cookie = (login.headers.getSetCookie().find((c) => c.startsWith('pvmlab_session=')) ?? '').split(';')[0];
  if (!cookie) throw new Error('launch URL set no session cookie');
  const base = new URL(launchUrl).origin;
  const page = await fetch(`${base}${login.headers.get('location') ?? '/'}`, { headers: { cookie } });
  const html = await page.text();
  if (page.status !== 200 || !html.includes('pvmlab')) throw new Error(`lab page answered ${page.status}`);
  return cookie;
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(t);
}

function procStatus(pid: number): { rssKb: number; hwmKb: number } {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
  return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
}

const CLK_TCK = (() => { try { return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100; } catch { return 100; } })();

/** utime + stime of one process, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // fields 14 and 15 of stat(5)
}

/** Child processes of pid (the panel should have none while idle). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(d));
    } catch { /* gone */ }
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const mb = (kb: number) => Math.round(kb / 1024 * 10) / 10;

async function main() {
  if (process.platform !== 'linux') throw new Error('this bench reads /proc: Linux only');
  ensureBuild();
  const home = fs.mkdtempSync('/tmp/pvb-');
  const machine = {
    cpu: os.cpus()[0]?.model ?? 'unknown', cpus: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(), node: process.version, loadavgAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
  console.log(`machine: ${machine.cpu}, ${machine.cpus} CPUs, ${machine.memoryGiB} GiB, Linux ${machine.kernel}, Node ${machine.node}, load ${machine.loadavgAtStart.join(' ')}`);
  try {
    // The lab home (dirs + key pair) exists before the timed runs, as it does for a returning user.
    execFileSync(process.execPath, ['--import', 'tsx', 'server/cli.ts', 'setup', '--json'], { cwd: ROOT, env: { ...process.env, PVMLAB_HOME: home }, stdio: 'ignore' });
  } catch { /* setup exits 1 when the doctor finds a problem; the home is made either way */ }

  const runs: { launchUrlMs: number; labPageMs: number; cpuMs: number }[] = [];
  try {
    for (let i = 1; i <= RUNS; i++) {
      const s = await startServer(home);
      try {
        await labPage(s.launchUrl);
        const total = performance.now() - s.t0;
        // CPU the server process burned to get there: a figure that a busy machine does not inflate much.
        const cpuMs = Math.round(cpuSeconds(s.child.pid!) * 1000);
        runs.push({ launchUrlMs: Math.round(s.openMs), labPageMs: Math.round(total), cpuMs });
        console.log(`run ${i}/${RUNS}: launch URL printed after ${Math.round(s.openMs)} ms, lab page 200 after ${Math.round(total)} ms (server CPU ${cpuMs} ms, load ${os.loadavg()[0].toFixed(1)})`);
      } finally {
        await stopServer(s.child);
      }
    }
    const starts = runs.map((r) => r.labPageMs);
    const cold = { minMs: Math.min(...starts), medianMs: median(starts), maxMs: Math.max(...starts),
      launchUrlMedianMs: median(runs.map((r) => r.launchUrlMs)), serverCpuMedianMs: median(runs.map((r) => r.cpuMs)) };

    // Idle footprint.
    const s = await startServer(home);
    const pid = s.child.pid!;
    if (!fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('server/cli.ts')) throw new Error(`pid ${pid} is not the panel`);
    let browser: { close(): Promise<void> } | null = null;
    let idleWithTab = false;
    let idle: Record<string, unknown>;
    try {
      if (!opts['no-browser'] && fs.existsSync(CHROMIUM)) {
        const { chromium } = await import('@playwright/test');
        const b = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
        browser = b;
        const page = await (await b.newContext()).newPage();
        const res = await page.goto(s.launchUrl);
        if (res?.status() !== 200) throw new Error(`lab page in Chromium: ${res?.status()}`);
        await page.getByTestId('lab-title').waitFor();
        idleWithTab = true;
      } else {
        await labPage(s.launchUrl);
      }
      await sleep(2_000); // let the first render's garbage settle
      const cpu0 = cpuSeconds(pid);
      const w0 = performance.now();
      let maxRssKb = 0;
      for (let t = 0; t < IDLE_S; t++) {
        await sleep(1_000);
        maxRssKb = Math.max(maxRssKb, procStatus(pid).rssKb);
      }
      const cpu = cpuSeconds(pid) - cpu0;
      const wall = (performance.now() - w0) / 1000;
      const st = procStatus(pid);
      const kids = childrenOf(pid);
      const kidsRssKb = kids.reduce((a, k) => { try { return a + procStatus(k).rssKb; } catch { return a; } }, 0);
      idle = {
        seconds: Math.round(wall * 10) / 10, withOpenTab: idleWithTab,
        rssMB: mb(st.rssKb), maxRssMB: mb(maxRssKb), peakRssMB: mb(st.hwmKb),
        childProcesses: kids.length, childrenRssMB: mb(kidsRssKb),
        cpuSeconds: Math.round(cpu * 1000) / 1000, cpuPercentOfOneCore: Math.round(cpu / wall * 100 * 1000) / 1000,
      };
    } finally {
      await browser?.close();
      await stopServer(s.child);
    }

    const result = {
      bench: 'panel-startup', date: new Date().toISOString(), machine, runs: RUNS,
      coldStart: { ...cold, samples: runs, goalMs: GOAL_START_MS, ok: cold.medianMs <= GOAL_START_MS },
      loadavgAtEnd: os.loadavg().map((x) => Math.round(x * 100) / 100),
      idle: { ...idle, goalRssMB: GOAL_RSS_MB, ok: (idle.rssMB as number) <= GOAL_RSS_MB },
    };
    console.log('');
    console.log(`cold start (process start → lab page 200), ${RUNS} runs: min ${cold.minMs} ms, median ${cold.medianMs} ms, max ${cold.maxMs} ms` +
      ` — goal ≤ ${GOAL_START_MS} ms: ${result.coldStart.ok ? 'met' : 'MISSED'}; server CPU median ${cold.serverCpuMedianMs} ms`);
    console.log(`idle ${idle.seconds} s${idleWithTab ? ' with one open tab' : ''}: RSS ${idle.rssMB} MB (max ${idle.maxRssMB}, peak ${idle.peakRssMB})` +
      ` — goal ≤ ${GOAL_RSS_MB} MB: ${result.idle.ok ? 'met' : 'MISSED'}; CPU ${idle.cpuSeconds} s (${idle.cpuPercentOfOneCore}% of one core); child processes: ${idle.childProcesses}`);
    fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
    fs.writeFileSync(RESULTS, JSON.stringify(result, null, 2) + '\n');
    console.log(`wrote ${path.relative(ROOT, RESULTS)}`);
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => { console.error(`panel-startup: ${(e as Error).message}`); process.exit(1); });
