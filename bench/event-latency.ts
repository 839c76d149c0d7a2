// Benchmark P5: how fast a VM's death reaches the page, and what an idle panel costs with VMs running.
// Not a test (DESIGN §5): it prints figures and writes bench/results/event-latency.json. Run on purpose:
//
//   npx tsx bench/event-latency.ts [--samples 10] [--vms 8] [--idle 30]
//
// On one real panel (started like the e2e suite: e2e/global-setup.ts, temp lab home) with the tiny test
// guest (scripts/build-test-guest.sh x86_64), in Debian's Chromium:
// 1. crash → page: a target VM runs and its page (/vms/<vm>) shows "running". A MutationObserver in the
//    page records when the status chip turns "crashed"; the script SIGKILLs QEMU (pid from the lab's pid
//    file, checked against /proc/<pid>/cmdline) and takes the difference of the two clocks (both
//    performance.timeOrigin + performance.now(), same machine). `--samples` times, restarting the VM
//    in between. The path: QMP socket closes → watcher marks crashed → bus → tRPC subscription → React.
// 2. idle CPU: `--vms` tiny VMs booted to their READY marker, then the panel process's utime+stime
//    (/proc/<pid>/stat, all its threads) over `--idle` seconds, twice: with no browser attached, and with
//    one Chromium tab open on the lab page (its tRPC subscription socket live).
import { setTimeout as sleep } from 'node:timers/promises';
import { accelLabels } from './accel.ts';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { chromium } from '@playwright/test';
import globalSetup from '../e2e/global-setup.ts';
import { CHROMIUM, CHROMIUM_ARGS, readPanel, sessionCookie, trpcCall, type PanelInfo } from '../e2e/harness.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = path.join(ROOT, 'bench', 'results', 'event-latency.json');

const { values: opts } = parseArgs({
  options: { samples: { type: 'string', default: '10' }, vms: { type: 'string', default: '8' }, idle: { type: 'string', default: '30' } },
});
const SAMPLES = Number(opts.samples);
const IDLE_VMS = Number(opts.vms);
const IDLE_S = Number(opts.idle);

const now = () => performance.timeOrigin + performance.now();

let cookie = '';
const trpc = <T = unknown>(panel: PanelInfo, kind: 'query' | 'mutation', proc: string, input: unknown) => trpcCall<T>(panel, cookie, kind, proc, input);

async function waitLog(panel: PanelInfo, name: string, re: RegExp, after = 0, ms = 300_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const { data } = await trpc<{ data: string }>(panel, 'query', 'vm.log', { name, offset: after, limit: 1 << 20 });
    if (re.test(data)) return;
    await sleep(500);
  }
  throw new Error(`${name}: no ${re} in the console log within ${ms / 1000} s`);
}

/** The QEMU pid of a VM of this lab, only if /proc says it really is that QEMU. */
function qemuPid(panel: PanelInfo, name: string): number {
  const pid = Number(fs.readFileSync(path.join(panel.home, 'pids', `${name}.pid`), 'utf8').trim());
  const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  if (!cmd.includes(`${panel.home}/`) || !cmd.includes('qemu-system')) throw new Error(`pid ${pid} is not ${name}'s QEMU`);
  return pid;
}

function cpuTicks(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime, stime (fields 14, 15)
}

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 10) / 10;
  return { n: s.length, p50: r(s[Math.ceil(0.5 * s.length) - 1]), max: r(s[s.length - 1]), min: r(s[0]), all: s.map(r) };
}

async function idleCpu(pid: number, seconds: number, hz: number) {
  const a = cpuTicks(pid);
  await sleep(seconds * 1000);
  const ticks = cpuTicks(pid) - a;
  const cpuSeconds = ticks / hz;
  return { seconds, cpuSeconds, percentOfOneCore: Math.round((cpuSeconds / seconds) * 10000) / 100 };
}

async function main(): Promise<void> {
  const hz = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  const teardown = await globalSetup({} as never);
  const panel = readPanel();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const made: string[] = [];
  try {
    cookie = await sessionCookie(panel);
    const { stdout } = await promisify(execFile)(path.join(ROOT, 'scripts/build-test-guest.sh'), ['x86_64'], { maxBuffer: 16 << 20 });
    const dir = stdout.trim().split('\n').pop()!;
    const create = async (name: string) => {
      made.push(name);
      await trpc(panel, 'mutation', 'vm.create', { name, boot: 'kernel', kernel: path.join(dir, 'vmlinuz'), initrd: path.join(dir, 'initrd.img'),
        memory: '256M', append: `console=ttyS0 pvmlab.hostname=${name}` });
    };

    // 1. crash → "crashed" in the page.
    const name = 'bench-crash';
    await create(name);
    const context = await browser.newContext();
    // tsx (esbuild keepNames) wraps named functions in __name(): give functions run in the page one.
    await context.addInitScript('window.__name = (f) => f');
    const page = await context.newPage();
    await page.goto(panel.launchUrl);
    await page.goto(`${panel.baseURL}/vms/${name}`);
    const chip = (status: string) => page.locator(`[data-testid="vm-status"] [data-status="${status}"]`);
    const crashMs: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const size = (await trpc<{ size: number }>(panel, 'query', 'vm.log', { name, offset: -1, limit: 1 })).size;
      await trpc(panel, 'mutation', 'vm.start', { name });
      await chip('running').waitFor({ timeout: 60_000 });
      await waitLog(panel, name, /PVMLAB-GUEST-READY/, size);
      await page.evaluate(() => {
        const w = window as unknown as { __crashAt: number | null; __obs?: MutationObserver };
        w.__crashAt = null;
        w.__obs?.disconnect();
        const seen = () => !!document.querySelector('[data-testid="vm-status"] [data-status="crashed"]');
        w.__obs = new MutationObserver(() => { if (w.__crashAt === null && seen()) w.__crashAt = performance.timeOrigin + performance.now(); });
        w.__obs.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status'] });
      });
      const pid = qemuPid(panel, name);
      const t0 = now();
      process.kill(pid, 'SIGKILL');
      await chip('crashed').waitFor({ timeout: 30_000 });
      const at = await page.evaluate(() => (window as unknown as { __crashAt: number | null }).__crashAt);
      if (at === null) throw new Error('the observer missed the crashed chip');
      crashMs.push(at - t0);
      console.error(`[bench] crash ${i + 1}/${SAMPLES}: ${(at - t0).toFixed(1)} ms`);
    }
    await context.close();
    await trpc(panel, 'mutation', 'vm.clean', { name });
    made.splice(made.indexOf(name), 1);

    // 2. idle panel CPU with VMs running.
    const names = Array.from({ length: IDLE_VMS }, (_, i) => `bench-idle-${i + 1}`);
    for (const n of names) await create(n);
    for (const n of names) await trpc(panel, 'mutation', 'vm.start', { name: n });
    for (const n of names) await waitLog(panel, n, /PVMLAB-GUEST-READY/);
    console.error(`[bench] ${IDLE_VMS} VMs ready; settling 10 s`);
    await sleep(10_000);
    const noBrowser = await idleCpu(panel.pid, IDLE_S, hz);
    const ctx2 = await browser.newContext();
    const lab = await ctx2.newPage();
    await lab.goto(panel.launchUrl);
    await lab.waitForLoadState('networkidle').catch(() => {});
    await sleep(5_000);
    const withTab = await idleCpu(panel.pid, IDLE_S, hz);
    await ctx2.close();

    const result = {
      at: new Date().toISOString(),
      host: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100), accelerator: await accelLabels() },
      p5: {
        crashToPageMs: stats(crashMs),
        measured: 'SIGKILL of QEMU (script clock) → MutationObserver sees [data-status="crashed"] in the VM page header (page clock); both epoch-based, same host',
      },
      idle: {
        vms: IDLE_VMS, clockTicksPerSecond: hz, panelPid: panel.pid,
        measured: `panel process utime+stime from /proc/<pid>/stat over ${IDLE_S} s, ${IDLE_VMS} test guests idle at their shell prompt`,
        noBrowser, withLabTab: withTab,
      },
    };
    fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
    fs.writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`event latency (${result.host.cpus} CPUs, TCG guests)`);
    console.log(`P5 QEMU SIGKILL → "crashed" in the page: p50 ${result.p5.crashToPageMs.p50} ms, max ${result.p5.crashToPageMs.max} ms (n=${SAMPLES}; all: ${result.p5.crashToPageMs.all.join(', ')})`);
    console.log(`idle panel CPU, ${IDLE_VMS} VMs running, ${IDLE_S} s: no browser ${noBrowser.cpuSeconds.toFixed(2)} CPU-s (${noBrowser.percentOfOneCore}% of a core); one lab tab open ${withTab.cpuSeconds.toFixed(2)} CPU-s (${withTab.percentOfOneCore}%)`);
    console.log(`written: ${path.relative(ROOT, RESULTS)}`);
  } finally {
    for (const n of made) await trpc(panel, 'mutation', 'vm.clean', { name: n }).catch((e: unknown) => console.error(`[bench] clean ${n}: ${(e as Error).message}`));
    await browser.close();
    await teardown();
  }
}

main().catch((e: unknown) => { console.error(e); process.exitCode = 1; });
