// Bench (issue 3): boot a tiny guest to its marker through the CLI vs the bare QEMU command it plans,
// x86_64 and aarch64; and `vm list` latency with 200 VM records. Run: npx tsx bench/vm-boot.ts
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { LabHome, ensureHome } from '../server/lab/home.ts';
import { Lab } from '../server/lab/services.ts';
import { testGuest } from '../server/lab/testing/guests.ts';
import { writeRecord } from '../server/lab/store.ts';

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

async function bootViaCli(home: string, arch: 'x86_64' | 'aarch64', name: string): Promise<number> {
  const env = { ...process.env, PVMLAB_HOME: home };
  const cli = [path.join(ROOT, 'bin/pvmlab.mjs')];
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

async function main() {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pvb-'));
  const lab = await Lab.open(new LabHome(home));
  const results: Record<string, unknown> = {};
  for (const arch of ['x86_64', 'aarch64'] as const) {
    const g = await testGuest(arch);
    const name = `b-${arch === 'x86_64' ? 'x' : 'a'}`;
    await lab.vms.create({ name, arch, boot: 'kernel', kernel: g.kernel, initrd: g.initrd, memory: '256M', append: `console=${g.console} pvmlab.hostname=${name}` });
    const cli: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      bare.push(await bootBare(lab, name));
      cli.push(await bootViaCli(home, arch, name));
    }
    const r = { cliMs: median(cli), bareMs: median(bare), ratio: median(cli) / median(bare), samples: { cli, bare } };
    console.log(`${arch}: boot to marker via CLI ${r.cliMs.toFixed(0)} ms, bare QEMU ${r.bareMs.toFixed(0)} ms, ratio ${r.ratio.toFixed(2)} (goal ≤ 1.1), median of ${RUNS}`);
    results[arch] = r;
    await lab.vms.clean(name);
  }
  // vm list with 200 records
  const listHome = fs.mkdtempSync(path.join(os.tmpdir(), 'pvb-'));
  const lh = new LabHome(listHome);
  await ensureHome(lh);
  for (let i = 0; i < 200; i++) {
    writeRecord(lh, { version: 1, name: `vm-${i}`, role: 'target', arch: 'x86_64', cpus: 1, memoryMiB: 256, diskSizeMiB: 1024, boot: 'pxe', image: null,
      kernel: null, initrd: null, append: null, mac: `52:54:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
      uplinkMac: null, ip: null, sshPort: null, sshUser: 'root', createdAt: new Date().toISOString(), crash: null });
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
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(listHome, { recursive: true, force: true });
  for (const h of [home, listHome]) fs.rmSync(new LabHome(h).runDir, { recursive: true, force: true }); // sockets (server/lab/rundir.ts)
}

main().catch((e) => { console.error(e); process.exit(1); });
