// Bench (issues 3, 9): boot a tiny guest to its marker through the CLI vs the bare QEMU command it plans,
// x86_64 and aarch64, under each accelerator asked for (ACCELS=kvm,tcg; default: the doctor's choice), every
// figure labelled with its accelerator, CPU model and the machine's load; the accelerator probe's own cost
// (cold and cached); and `vm list` latency with 200 VM records.
// Run: npx tsx bench/vm-boot.ts   (RUNS=5, ACCELS=auto|kvm,tcg, ARCHES=x86_64,aarch64)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { LabHome, ensureHome } from '../server/lab/home.ts';
import { Lab } from '../server/lab/lab.ts';
import { testGuest } from '../server/lab/testing/guests.ts';
import { writeRecord } from '../server/lab/store.ts';
import { probeAccelerators } from '../server/lab/accel/probe.ts';
import type { AccelMode } from '../server/lab/accel/choose.ts';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const RUNS = Number(process.env.RUNS ?? 5);
const MARKER = /PVMLAB-GUEST-READY/;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function waitFile(file: string, re: RegExp, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try { if (re.test(fs.readFileSync(file, 'utf8'))) return; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timeout waiting for ${re} in ${file}`);
}

async function bootViaCli(home: string, name: string): Promise<number> {
  const env = { ...process.env, PVMLAB_HOME: home };
  const cli = [path.join(ROOT, 'bin/pvmlab.mjs')];
  // The log is appended across boots: clear it, or the previous run's marker ends the wait at once.
  fs.rmSync(path.join(home, 'logs', `${name}.log`), { force: true });
  const t0 = performance.now();
  await execa('node', [...cli, 'vm', 'start', name], { env });
  await waitFile(path.join(home, 'logs', `${name}.log`), MARKER);
  const t = performance.now() - t0;
  await execa('node', [...cli, 'vm', 'stop', name, '--force'], { env });
  fs.rmSync(path.join(home, 'logs', `${name}.log`), { force: true });
  return t;
}

async function bootBare(lab: Lab, name: string): Promise<number> {
  // The exact argv pvmlab plans, run by hand: QEMU alone.
  const rec = lab.vms.get(name);
  const plan = await lab.vms.plan(rec);
  const log = lab.home.vmLog(name);
  fs.rmSync(log, { force: true });
  const t0 = performance.now();
  await execa(plan.binary, plan.args);
  await waitFile(log, MARKER);
  const t = performance.now() - t0;
  const pid = Number(fs.readFileSync(lab.home.vmPid(name), 'utf8'));
  process.kill(pid, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 300));
  for (const f of [lab.home.vmPid(name), lab.home.vmQmp(name), lab.home.vmEvents(name), lab.home.vmSerial(name)]) fs.rmSync(f, { force: true });
  return t;
}

const load = () => os.loadavg().map((x) => Math.round(x * 100) / 100);

async function main() {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pvb-'));
  const listHome = fs.mkdtempSync(path.join(os.tmpdir(), 'pvb-'));
  try { await run(home, listHome); } finally {
    // A failed run leaves nothing behind: QEMU of the temp lab stopped, both temp homes removed.
    const lab = await Lab.open(new LabHome(home)).catch(() => null);
    await lab?.cleanLab({ removeKey: true }).catch(() => {});
    fs.rmSync(home, { recursive: true, force: true });
    fs.rmSync(listHome, { recursive: true, force: true });
    for (const h of [home, listHome]) fs.rmSync(new LabHome(h).runDir, { recursive: true, force: true }); // sockets (server/lab/rundir.ts)
  }
}

async function run(home: string, listHome: string) {
  const results: Record<string, unknown> = { host: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadAtStart: load() } };
  // The probe's own cost: cold (forced, the first run on a host) and cached (every later doctor).
  const cold = await probeAccelerators({ force: true });
  const cached = await probeAccelerators();
  results.probe = { coldMs: cold.durationMs, cachedMs: cached.durationMs, chosen: Object.fromEntries(Object.entries(cold.arches).map(([a, v]) => [a, v.chosen])) };
  console.log(`accelerator probe: cold ${cold.durationMs} ms, cached ${cached.durationMs} ms; x86_64 → ${cold.arches.x86_64.chosen?.accel}, aarch64 → ${cold.arches.aarch64.chosen?.accel}`);

  const lab = await Lab.open(new LabHome(home));
  const accels = (process.env.ACCELS ?? 'auto').split(',').map((a) => a.trim()) as AccelMode[];
  const arches = (process.env.ARCHES ?? 'x86_64,aarch64').split(',') as ('x86_64' | 'aarch64')[];
  const rows: Record<string, unknown>[] = [];
  for (const arch of arches) {
    const g = await testGuest(arch);
    for (const accel of accels) {
      const name = `b-${arch === 'x86_64' ? 'x' : 'a'}-${accel}`;
      await lab.vms.create({ name, arch, boot: 'kernel', kernel: g.kernel, initrd: g.initrd, memory: '256M', append: `console=${g.console} pvmlab.hostname=${name}`, accel });
      let use: Awaited<ReturnType<typeof lab.vms.accel>>;
      try { use = await lab.vms.accel(lab.vms.get(name)); } catch (e) { console.log(`${arch} ${accel}: skipped — ${(e as Error).message}`); await lab.vms.clean(name); continue; }
      const cli: number[] = [];
      const bare: number[] = [];
      const loadBefore = load();
      try {
        for (let i = 0; i < RUNS; i++) {
          bare.push(await bootBare(lab, name));
          cli.push(await bootViaCli(home, name));
        }
      } catch (e) {
        console.log(`${arch} under ${use.accelerator} -cpu ${use.cpu}: failed — ${(e as Error).message.split('\n')[0]}`);
        await lab.vms.clean(name);
        continue;
      }
      const r = { arch, accelerator: use.accelerator, cpu: use.cpu, source: use.source, cliMs: median(cli), bareMs: median(bare), ratio: median(cli) / median(bare), load: { before: loadBefore, after: load() }, samples: { cli, bare } };
      console.log(`${arch} (${use.accelerator} -cpu ${use.cpu}): boot to marker via CLI ${r.cliMs.toFixed(0)} ms, bare QEMU ${r.bareMs.toFixed(0)} ms, ratio ${r.ratio.toFixed(2)} (goal ≤ 1.1), median of ${RUNS}, load ${loadBefore.join(' ')}`);
      rows.push(r);
      await lab.vms.clean(name);
    }
  }
  results.boots = rows;
  // vm list with 200 records
  const lh = new LabHome(listHome);
  await ensureHome(lh);
  for (let i = 0; i < 200; i++) {
    writeRecord(lh, { version: 1, name: `vm-${i}`, role: 'target', arch: 'x86_64', cpus: 1, memoryMiB: 256, diskSizeMiB: 1024, boot: 'pxe', image: null,
      kernel: null, initrd: null, append: null, mac: `52:54:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
      uplinkMac: null, ip: null, sshPort: null, sshUser: 'root', createdAt: new Date().toISOString(), accel: null, crash: null });
  }
  const env = { ...process.env, PVMLAB_HOME: listHome };
  const inProc: number[] = [];
  const l = await Lab.open(lh);
  for (let i = 0; i < 20; i++) { const t0 = performance.now(); await l.listVms(); inProc.push(performance.now() - t0); }
  const cliList: number[] = [];
  for (let i = 0; i < 5; i++) { const t0 = performance.now(); await execa('node', [path.join(ROOT, 'bin/pvmlab.mjs'), 'vm', 'list', '--json'], { env }); cliList.push(performance.now() - t0); }
  results.vmList = { records: 200, apiMs: median(inProc), cliProcessMs: median(cliList) };
  console.log(`vm list, 200 records: ${median(inProc).toFixed(1)} ms in the panel (goal ≤ 50 ms); whole CLI process ${median(cliList).toFixed(0)} ms (node + tsx start-up included)`);
  fs.mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
  fs.writeFileSync(path.join(ROOT, 'bench/results/vm-boot.json'), JSON.stringify({ at: new Date().toISOString(), runs: RUNS, ...results }, null, 2));
}

main().catch((e) => { console.error(e); process.exit(1); });
