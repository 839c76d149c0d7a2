// Executors around QEMU processes: launch a plan, find and verify the pid, stop with escalating steps.
import fs from 'node:fs';
import { execa, execaSync } from 'execa';
import { QmpClient, qmpOnce } from './qmp.ts';
import type { QemuPlan } from './plan.ts';

export function readPid(pidFile: string): number | null {
  try {
    const n = Number(fs.readFileSync(pidFile, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

/** Alive and not a zombie. */
export function processAlive(pid: number): boolean {
  try { process.kill(pid, 0); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false; }
  if (process.platform === 'linux') {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      return state !== 'Z' && state !== 'X';
    } catch { return false; }
  }
  return true;
}

/** Is pid really the QEMU we started with this pid file (not a reused pid)? */
export function isOurQemu(pid: number, pidFile: string): boolean {
  if (!processAlive(pid)) return false;
  let argv: string[];
  if (process.platform === 'linux') {
    try { argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'); } catch { return false; }
  } else {
    try {
      const r = execaSync('ps', ['-o', 'command=', '-p', String(pid)], { reject: false });
      argv = r.stdout.split(' ');
    } catch { return false; }
  }
  const i = argv.indexOf('-pidfile');
  return /qemu-system-/.test(argv[0] ?? '') && i >= 0 && argv[i + 1] === pidFile;
}

/** The pid of a running QEMU for this pid file, or null. */
export function livePid(pidFile: string): number | null {
  const pid = readPid(pidFile);
  return pid && isOurQemu(pid, pidFile) ? pid : null;
}

export class LaunchError extends Error {}

/** Run QEMU with -daemonize: returns when the guest is created (the parent exits), with its pid. */
export async function launchQemu(plan: QemuPlan, pidFile: string, wrapper: string[] = []): Promise<number> {
  const [cmd, ...pre] = wrapper.length ? wrapper : [plan.binary];
  const args = wrapper.length ? [...pre, plan.binary, ...plan.args] : plan.args;
  const r = await execa(cmd, args, { reject: false, stdin: 'ignore', timeout: 60_000 });
  if (r.exitCode !== 0) {
    const err = (r.stderr || r.stdout || String(r.message)).trim().split('\n').slice(-5).join('\n');
    if ((r as { code?: string }).code === 'ENOENT') throw new LaunchError(`${cmd} is not installed: see the Setup page (pvmlab doctor)`);
    throw new LaunchError(`QEMU failed to start: ${err}`);
  }
  const pid = readPid(pidFile);
  if (!pid) throw new LaunchError('QEMU started but wrote no pid file');
  return pid;
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!processAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !processAlive(pid);
}

export type StopStep = 'powerdown' | 'quit' | 'sigterm' | 'sigkill';

/**
 * Stop: ACPI powerdown via QMP and wait; then QMP quit; then SIGTERM; then SIGKILL — each only if the
 * step before did not end the process within its deadline. Returns the step that did it.
 */
export async function stopQemu(pid: number, qmpPath: string, opts: { graceMs: number; force?: boolean; onStep?: (s: StopStep) => void }): Promise<StopStep> {
  const steps: { step: StopStep; run: () => Promise<void>; wait: number }[] = [
    { step: 'powerdown', run: () => qmpOnce(qmpPath, 'system_powerdown').then(() => {}), wait: opts.graceMs },
    { step: 'quit', run: () => qmpOnce(qmpPath, 'quit').then(() => {}), wait: 3000 },
    { step: 'sigterm', run: async () => { process.kill(pid, 'SIGTERM'); }, wait: 3000 },
    { step: 'sigkill', run: async () => { process.kill(pid, 'SIGKILL'); }, wait: 3000 },
  ];
  for (const s of opts.force ? steps.slice(1) : steps) {
    if (!processAlive(pid)) return s.step;
    opts.onStep?.(s.step);
    try { await s.run(); } catch { /* the next step will follow */ }
    if (await waitGone(pid, s.wait)) return s.step;
  }
  throw new Error(`QEMU process ${pid} did not exit even after SIGKILL`);
}

export { QmpClient };
