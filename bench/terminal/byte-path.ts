// The servers' byte path on its own: pty → WebSocket under a steady flood, no browser. Not a test: run on purpose
//
//   npx tsx bench/terminal/byte-path.ts [--mib 16] [--rounds 2] [--idle 10] [--profile] [--no-wetty]
//
// One panel + the tiny guest (bench/terminal/lab.ts), a ttyd-like server and WeTTY running the same ssh into
// the same guest. Each round floods `--mib` MiB through each server in turn with a Node client that consumes
// at once (bench/terminal/clients.ts), so the figures are the server side alone: MiB/s, frames and their
// mean size, and host CPU per MiB of the server process (alone, and with its ssh client), the guest (QEMU)
// and the shared ssh ControlMaster, with each group's idle rate subtracted (the lower of `--idle` s before the
// floods, after a small warm-up flood through each server, and `--idle` s after them).
// --profile runs every server under V8's sampling profiler (cpu-prof.mjs, toggled by SIGUSR2 around each flood) and prints
// each flood's top functions by self time (profiles kept in bench/results/byte-path-profiles/). The profiler costs
// every server several times its CPU per MiB: take the figures from a run without it. Writes bench/results/byte-path.json.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { accelLabels } from '../accel.ts';
import { CpuGroups, ROOT, cpuDiff, cpuSum, idleRate, load1, mark, perMiB, retrying, loads, type CpuSample } from './common.ts';
import { panelFlood, ttydFlood, wettyFlood, type NodeFlood } from './clients.ts';
import { startLab } from './lab.ts';
import { summarizeProfile } from './profile.ts';
import { installWetty, startTtydLike, startWetty, type ServerProc } from './servers.ts';

const { values: opts } = parseArgs({
  options: {
    mib: { type: 'string', default: '16' }, rounds: { type: 'string', default: '2' }, idle: { type: 'string', default: '10' },
    profile: { type: 'boolean', default: false }, 'no-wetty': { type: 'boolean', default: false },
  },
});
const MIB = Number(opts.mib);
const ROUNDS = Math.max(1, Number(opts.rounds));
const RESULTS = path.join(ROOT, 'bench', 'results', 'byte-path.json');
const PROFILES = path.join(ROOT, 'bench', 'results', 'byte-path-profiles');

async function main(): Promise<void> {
  // `--cpu-prof` may not go in NODE_OPTIONS (how the panel gets it): cpu-prof.mjs does the same from --import.
  const preload = path.join(ROOT, 'bench', 'terminal', 'cpu-prof.mjs');
  const prof = (_name: string) => ['--import', preload];
  if (opts.profile) { fs.rmSync(PROFILES, { recursive: true, force: true }); process.env.PVMLAB_CPU_PROF_DIR = PROFILES; }
  const profiled: { file: string; name: string; round: number; mib: number }[] = [];
  const wetty = opts['no-wetty'] ? null : installWetty();
  mark('setup');
  const lab = await startLab({ panelNodeOptions: opts.profile ? `--import=${preload}` : undefined });
  const servers: ServerProc[] = [];
  try {
    servers.push(await startTtydLike(lab.sshCmd, lab.panel.home, 'bench', opts.profile ? prof('ttyd-like') : []));
    if (wetty) servers.push(await startWetty(wetty, lab.ssh, lab.panel.home, opts.profile ? prof('wetty') : []));
    const groups = new CpuGroups();
    groups.servers.set('panel', lab.panel.pid);
    for (const s of servers) groups.servers.set(s.name, s.child.pid!);
    groups.guest = lab.guestPid;
    groups.home = lab.panel.home;

    const runs: Record<string, { flood: NodeFlood; cpu: CpuSample; load1: number }[]> = {};
    const flood = (name: string, mib = MIB): Promise<NodeFlood> => {
      if (name === 'panel') return panelFlood(lab.panel, lab.cookie, mib);
      const s = servers.find((x) => x.name === name)!;
      return name === 'wetty' ? wettyFlood(wetty!.dir, s.url, mib) : ttydFlood(s.url, mib);
    };
    const order = ['panel', ...servers.map((s) => s.name)];
    // Warm-up: one small flood each (module loading, JIT, the first ssh session), then the idle baseline.
    for (const name of order) { mark(`warm-up: 0.25 MiB through ${name}`); await retrying(name, () => flood(name, 0.25)); }
    mark(`idle baseline ${opts.idle} s`);
    const idleBefore = await idleRate(groups, Number(opts.idle) * 1000);
    for (let round = 1; round <= ROUNDS; round++) {
      // ABC, then CBA: a load trend hits every server alike.
      for (const name of round % 2 ? order : [...order].reverse()) {
        mark(`round ${round}/${ROUNDS}: ${MIB} MiB through ${name}`);
        const l = load1();
        const pid = groups.servers.get(name)!;
        if (opts.profile) process.kill(pid, 'SIGUSR2'); // cpu-prof.mjs: start
        const c0 = groups.sample();
        const f = await retrying(name, () => flood(name));
        const cpu = cpuDiff(c0, groups.sample());
        if (opts.profile) { process.kill(pid, 'SIGUSR2'); profiled.push({ file: `${pid}-${(runs[name]?.length ?? 0) + 1}.cpuprofile`, name, round, mib: f.bytes / (1 << 20) }); }
        (runs[name] ??= []).push({ flood: f, cpu, load1: l });
      }
    }
    mark(`idle baseline again, ${opts.idle} s`);
    const idleAfter = await idleRate(groups, Number(opts.idle) * 1000);
    const idle = minSample(idleBefore, idleAfter);
    mark('done');

    const summary = Object.fromEntries(Object.entries(runs).map(([name, rs]) => {
      const bytes = rs.reduce((a, r) => a + r.flood.bytes, 0);
      const seconds = rs.reduce((a, r) => a + r.flood.seconds, 0);
      const frames = rs.reduce((a, r) => a + r.flood.frames, 0);
      const cpu = perMiB(cpuSum(rs.map((r) => r.cpu)), bytes, seconds, idle);
      return [name, {
        mibPerSec: Math.round((bytes / (1 << 20) / seconds) * 100) / 100, bytes, seconds, frames, meanFrameBytes: Math.round(bytes / frames),
        serverMsPerMiB: cpu.serverSelf[name], serverKernelMsPerMiB: cpu.serverSys[name], serverWithSshMsPerMiB: cpu.servers[name], guestMsPerMiB: cpu.guest, sshMasterMsPerMiB: cpu.sshMaster,
        runs: rs.map((r) => ({ ...r.flood, load1: r.load1, msPerMiB: perMiB(r.cpu, r.flood.bytes, r.flood.seconds, idle) })),
      }];
    }));
    const result = {
      at: new Date().toISOString(),
      host: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, accelerator: await accelLabels(), load1: loads },
      wetty: wetty ? { version: wetty.version, nodePty: wetty.nodePty, engines: wetty.engines, engineWarnings: wetty.warnings } : null,
      cancelledPanelJobs: lab.cancelledJobs,
      mibPerRun: MIB, rounds: ROUNDS, idleMsPerSec: { before: idleBefore, after: idleAfter, subtracted: idle },
      method: 'Node clients (no browser) consuming at once, each in its server\'s protocol; server CPU = /proc utime+stime of the server process (and of its tree, i.e. with its ssh client), idle rate subtracted',
      summary,
    };
    fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
    fs.writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`byte path, ${MIB} MiB × ${ROUNDS} per server (accelerator ${result.host.accelerator.x86_64}; load ${Math.min(...loads.map((l) => l.load1))}–${Math.max(...loads.map((l) => l.load1))})`);
    for (const [name, s] of Object.entries(summary)) {
      console.log(`  ${name.padEnd(10)} ${String(s.mibPerSec).padStart(6)} MiB/s  ${String(s.meanFrameBytes).padStart(6)} B/frame  server ${s.serverMsPerMiB} ms/MiB (kernel ${s.serverKernelMsPerMiB}; with its ssh ${s.serverWithSshMsPerMiB})  guest ${s.guestMsPerMiB}  ssh master ${s.sshMasterMsPerMiB}`);
    }
    console.log(`written: ${path.relative(ROOT, RESULTS)}`);
  } finally {
    for (const s of servers) await s.stop();
    await lab.close();
  }
  if (opts.profile) {
    for (const p of profiled) {
      const file = path.join(PROFILES, p.file);
      if (!fs.existsSync(file)) { console.log(`\n${p.name}, round ${p.round}: no profile written (${p.file})`); continue; }
      console.log(`\n${p.name}, round ${p.round}, ${p.mib.toFixed(1)} MiB: ${path.relative(ROOT, file)}`);
      console.log(summarizeProfile(JSON.parse(fs.readFileSync(file, 'utf8')), 30));
    }
  }
}

/** The lower of two idle rates, per group: idle is the floor; a window that caught activity (a server's own
 * clean-up after a flood) is not idle. */
function minSample(a: CpuSample, b: CpuSample): CpuSample {
  const m = (x: Record<string, number>, y: Record<string, number>) => Object.fromEntries(Object.keys(x).map((k) => [k, Math.min(x[k], y[k] ?? x[k])]));
  return { servers: m(a.servers, b.servers), serverSelf: m(a.serverSelf, b.serverSelf), serverSys: m(a.serverSys, b.serverSys), browser: Math.min(a.browser, b.browser), guest: Math.min(a.guest, b.guest), sshMaster: Math.min(a.sshMaster, b.sshMaster) };
}

main().catch((e: unknown) => { console.error(e); process.exitCode = 1; });
