// Executors around QEMU processes: launch a plan, find and verify the pid, stop with escalating steps.
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import { execaSync } from 'execa';
import { QmpClient, qmpOnce } from './qmp.ts';
import type { QemuPlan } from './plan.ts';
import { ConflictError } from '../errors.ts';
import { processAlive } from '../pids.ts';

export function readPid(pidFile: string): number | null {
  try {
    const n = Number(fs.readFileSync(pidFile, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

export { processAlive } from '../pids.ts';

/** The argv of pid when it is really the QEMU we started with this pid file (not a reused pid), else null. */
function ourQemuArgv(pid: number, pidFile: string): string[] | null {
  if (!processAlive(pid)) return null;
  let argv: string[];
  if (process.platform === 'linux') {
    try { argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'); } catch { return null; }
  } else {
    try {
      const r = execaSync('ps', ['-o', 'command=', '-p', String(pid)], { reject: false });
      argv = r.stdout.split(' ');
    } catch { return null; }
  }
  const i = argv.indexOf('-pidfile');
  return /qemu-system-/.test(argv[0] ?? '') && i >= 0 && argv[i + 1] === pidFile ? argv : null;
}

/** Is pid really the QEMU we started with this pid file (not a reused pid)? */
export function isOurQemu(pid: number, pidFile: string): boolean {
  return ourQemuArgv(pid, pidFile) !== null;
}

/** The running QEMU for this pid file — its pid and argv (read once: status and the accelerator come from it) — or null. */
export function liveQemu(pidFile: string): { pid: number; argv: string[] } | null {
  const pid = readPid(pidFile);
  const argv = pid ? ourQemuArgv(pid, pidFile) : null;
  return pid && argv ? { pid, argv } : null;
}

/** The pid of a running QEMU for this pid file, or null. */
export function livePid(pidFile: string): number | null {
  return liveQemu(pidFile)?.pid ?? null;
}

/** QEMU could not start: the host's state (a file, a port, the accelerator) is in the way. → CONFLICT */
export class LaunchError extends ConflictError {}

/** Processes started for this pid file (`-pidfile <pidFile>` in their argv), whatever their state. */
export function strayPids(pidFile: string): number[] {
  if (process.platform !== 'linux') return [];
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    let argv: string[];
    try { argv = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0'); } catch { continue; }
    const i = argv.indexOf('-pidfile');
    if (i >= 0 && argv[i + 1] === pidFile) out.push(Number(d));
  }
  return out;
}

/** Spawn with stdout/stderr on a file descriptor (no pipe to wait on); SIGKILL at the deadline. */
function runWithDeadline(cmd: string, args: string[], fd: number, ms: number): Promise<{ exitCode: number | null; timedOut: boolean; code?: string; error?: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', fd, fd] });
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, ms);
    child.once('error', (e: NodeJS.ErrnoException) => { clearTimeout(timer); resolve({ exitCode: null, timedOut, code: e.code, error: e.message }); });
    child.once('exit', (code) => { clearTimeout(timer); resolve({ exitCode: code, timedOut }); });
  });
}

/** Default launch deadline (PVMLAB_LAUNCH_TIMEOUT_MS overrides). */
export function launchDeadlineMs(env: Record<string, string | undefined> = process.env): number {
  const n = Number(env.PVMLAB_LAUNCH_TIMEOUT_MS);
  return Number.isFinite(n) && n > 0 ? n : 60_000;
}

/**
 * Run QEMU with -daemonize: returns when the guest is created (the parent exits), with its pid.
 * QEMU's output goes to a file, never a pipe: a daemonised child that blocks cannot hold our stdout open
 * and make the deadline moot. On any failure every process of this pid file is killed and the pid file
 * removed, so a failed launch leaves nothing that looks like a VM.
 */
export async function launchQemu(plan: QemuPlan, pidFile: string, wrapper: string[] = [], opts: { deadlineMs?: number } = {}): Promise<number> {
  const [cmd, ...pre] = wrapper.length ? wrapper : [plan.binary];
  const args = wrapper.length ? [...pre, plan.binary, ...plan.args] : plan.args;
  const deadline = opts.deadlineMs ?? launchDeadlineMs();
  const out = `${pidFile}.launch-out`;
  fs.rmSync(out, { force: true });
  const fd = fs.openSync(out, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
  let outText = '';
  try {
    const r = await runWithDeadline(cmd, args, fd, deadline);
    try { outText = fs.readFileSync(out, 'utf8'); } catch { /* none */ }
    const err = (outText || r.error || '').trim().split('\n').slice(-5).join('\n');
    if (r.code === 'ENOENT') throw new LaunchError(`${cmd} is not installed: see the Setup page (pvmlab doctor)`);
    if (r.timedOut) throw new LaunchError(`QEMU did not finish starting within ${Math.round(deadline / 1000)} s (a kernel, initrd or disk that blocks when read?); it was stopped. ${err}`.trim());
    if (r.exitCode !== 0) throw new LaunchError(`QEMU failed to start: ${err}`);
    const pid = readPid(pidFile);
    if (!pid || !isOurQemu(pid, pidFile)) throw new LaunchError('QEMU started but wrote no pid file of a running QEMU');
    return pid;
  } catch (e) {
    for (const p of strayPids(pidFile)) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
    fs.rmSync(pidFile, { force: true });
    throw e;
  } finally {
    fs.closeSync(fd);
    fs.rmSync(out, { force: true });
  }
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
