// Shared pieces of the terminal benches (bench/terminal-latency.ts, bench/terminal/byte-path.ts): figures,
// the machine's load log, and host CPU time by process group from /proc.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runDirFor } from '../../server/lab/rundir.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The guest every terminal bench opens its consoles on. */
export const VM = 'bench-term';
export const T0 = Date.now();

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Stats { n: number; p50: number; p95: number; mean: number; min: number; max: number }
/** Nearest-rank percentiles of the finite values, rounded to 0.1. */
export function stats(xs: number[]): Stats {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return { n: 0, p50: NaN, p95: NaN, mean: NaN, min: NaN, max: NaN };
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  const r = (x: number) => Math.round(x * 10) / 10;
  return { n: s.length, p50: r(q(0.5)), p95: r(q(0.95)), mean: r(s.reduce((a, b) => a + b, 0) / s.length), min: r(s[0]), max: r(s[s.length - 1]) };
}
export const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
export const r2 = (x: number) => Math.round(x * 100) / 100;
export const MiB = 1 << 20;

/** The 1-minute load average at each phase of the run. */
export const loads: { at: string; phase: string; load1: number }[] = [];
export function mark(phase: string): void {
  const load1 = r2(os.loadavg()[0]);
  loads.push({ at: new Date().toISOString(), phase, load1 });
  console.error(`[bench] ${phase} (load ${load1})`);
}
export const load1 = () => r2(os.loadavg()[0]);

/** `head -c N /dev/zero | base64` then a marker line `FLOOD-2` (the shell computes it: the echoed command line never matches). */
export const floodCommand = (mib: number) => `head -c ${Math.round(mib * MiB)} /dev/zero | base64; echo FLOOD-$((1+1))`;

/** CPU time (ms, user + system, all threads) a process has used so far; NaN if it is gone. */
export function cpuMs(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime, stime in USER_HZ (100)
  } catch { return NaN; }
}

/**
 * Host CPU accounting by process group. Each server group is a root pid and everything under it (the
 * server's own node process and the ssh client it runs on its pty: `self` is the root alone); `browser` is
 * every chromium process under this bench; `guest` is QEMU; `sshMaster` is the lab's ssh ControlMaster,
 * which every session shares (it daemonizes out of whichever tree started it: ControlMaster auto +
 * ControlPersist in the lab's ssh_config).
 */
export class CpuGroups {
  servers = new Map<string, number>();
  guest?: number;
  home?: string;

  /** ms so far: per server (tree and root alone), browser, guest, ssh master. */
  sample(): CpuSample {
    const parent = new Map<number, number>();
    const cpu = new Map<number, number>();
    const sys = new Map<number, number>();
    const comm = new Map<number, string>();
    for (const d of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        parent.set(Number(d), Number(f[1]));
        cpu.set(Number(d), ((Number(f[11]) + Number(f[12])) * 1000) / 100);
        sys.set(Number(d), (Number(f[12]) * 1000) / 100);
        comm.set(Number(d), stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')));
      } catch { /* gone */ }
    }
    const under = (pid: number, root: number) => { for (let p = pid, i = 0; p > 1 && i < 64; p = parent.get(p) ?? 0, i++) if (p === root) return true; return false; };
    const out: CpuSample = { servers: {}, serverSelf: {}, serverSys: {}, browser: 0, guest: 0, sshMaster: 0 };
    for (const k of this.servers.keys()) { out.servers[k] = 0; out.serverSelf[k] = 0; out.serverSys[k] = 0; }
    for (const [pid, ms] of cpu) {
      const srv = [...this.servers].find(([, root]) => under(pid, root));
      if (srv) { out.servers[srv[0]] += ms; if (pid === srv[1]) { out.serverSelf[srv[0]] += ms; out.serverSys[srv[0]] += sys.get(pid) ?? 0; } }
      else if (pid === this.guest) out.guest += ms;
      else if (under(pid, process.pid) && /chrom/i.test(comm.get(pid) ?? '')) out.browser += ms;
      else if (comm.get(pid) === 'ssh' && this.home && !under(pid, process.pid)) {
        let cmd = '';
        try { cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { /* gone */ }
        // The master renames itself `ssh: <run dir>/cm-… [mux]` (its socket is in the lab's run dir, not the home).
        if (cmd.includes(this.home) || cmd.includes(runDirFor(this.home))) out.sshMaster += ms;
      }
    }
    return out;
  }
}

/** ms of CPU: each server's tree, the server process alone (and of that, in the kernel: serverSys), the rest by group. */
export interface CpuSample { servers: Record<string, number>; serverSelf: Record<string, number>; serverSys: Record<string, number>; browser: number; guest: number; sshMaster: number }

const mapV = (a: Record<string, number>, f: (k: string, v: number) => number) => Object.fromEntries(Object.keys(a).map((k) => [k, f(k, a[k])]));
export function cpuDiff(a: CpuSample, b: CpuSample): CpuSample {
  return { servers: mapV(b.servers, (k, v) => v - (a.servers[k] ?? 0)), serverSelf: mapV(b.serverSelf, (k, v) => v - (a.serverSelf[k] ?? 0)),
    serverSys: mapV(b.serverSys, (k, v) => v - (a.serverSys[k] ?? 0)), browser: b.browser - a.browser, guest: b.guest - a.guest, sshMaster: b.sshMaster - a.sshMaster };
}
export function cpuSum(xs: CpuSample[]): CpuSample {
  const z: CpuSample = { servers: {}, serverSelf: {}, serverSys: {}, browser: 0, guest: 0, sshMaster: 0 };
  for (const x of xs) {
    for (const [k, v] of Object.entries(x.servers)) z.servers[k] = (z.servers[k] ?? 0) + v;
    for (const [k, v] of Object.entries(x.serverSelf)) z.serverSelf[k] = (z.serverSelf[k] ?? 0) + v;
    for (const [k, v] of Object.entries(x.serverSys)) z.serverSys[k] = (z.serverSys[k] ?? 0) + v;
    z.browser += x.browser; z.guest += x.guest; z.sshMaster += x.sshMaster;
  }
  return z;
}
/** A CPU sample scaled: `(v - idle rate × seconds) / MiB`, i.e. ms per MiB over the idle baseline, never below 0. */
export function perMiB(cpu: CpuSample, bytes: number, seconds: number, idlePerSec?: CpuSample): CpuSample {
  const m = bytes / MiB;
  const f = (v: number, idle = 0) => Math.max(0, Math.round((v - idle * seconds) / m));
  return {
    servers: mapV(cpu.servers, (k, v) => f(v, idlePerSec?.servers[k])), serverSelf: mapV(cpu.serverSelf, (k, v) => f(v, idlePerSec?.serverSelf[k])),
    serverSys: mapV(cpu.serverSys, (k, v) => f(v, idlePerSec?.serverSys[k])),
    browser: f(cpu.browser, idlePerSec?.browser), guest: f(cpu.guest, idlePerSec?.guest), sshMaster: f(cpu.sshMaster, idlePerSec?.sshMaster),
  };
}

/** The idle rate (ms of CPU per second) of every group over `ms`: subtracted from the flood figures. */
export async function idleRate(groups: CpuGroups, ms: number): Promise<CpuSample> {
  const a = groups.sample();
  await sleep(ms);
  const d = cpuDiff(a, groups.sample());
  const s = ms / 1000;
  const per = (v: number) => Math.round((v / s) * 10) / 10;
  return { servers: mapV(d.servers, (_k, v) => per(v)), serverSelf: mapV(d.serverSelf, (_k, v) => per(v)), serverSys: mapV(d.serverSys, (_k, v) => per(v)), browser: per(d.browser), guest: per(d.guest), sshMaster: per(d.sshMaster) };
}

/** A run, again (up to 5 times) if it failed with a message containing `RETRY:` (ssh gave up before the prompt on a slow guest). */
export async function retrying<T>(what: string, run: (attempt: number) => Promise<T>): Promise<T> {
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
