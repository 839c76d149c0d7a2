// Starting the console clock (console-clock.ts) as a daemon of its own: detached, no terminal, one per lab home
// (.console-clock.pid in the lab's run dir, created exclusively), so it outlives the CLI command or the panel that started it
// and stamps the console logs of VMs running with neither. Cost: one idle Node process while any VM runs.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { processAlive, readPid } from '../qemu/process.ts';

const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'console-clock-main.ts');

/** The pid file of the lab's console clock, in `dir` (the lab's run dir, rundir.ts: runtime state, not the home's). */
export function clockPidFile(dir: string): string { return path.join(dir, '.console-clock.pid'); }

/** Is the lab's console clock running (its pid alive and really a console clock)? */
export function clockRunning(pidDir: string): boolean {
  const pid = readPid(clockPidFile(pidDir));
  if (!pid || !processAlive(pid)) return false;
  if (process.platform !== 'linux') return true;
  try { return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('console-clock-main'); } catch { return false; }
}

/**
 * Make sure the console clock of the lab home `root` runs: spawn it detached when it does not, and wait (at most
 * waitMs) until it watches — so a VM started next has its first console bytes timed. Never throws (a missing clock
 * only costs the timeline its console times). Resolves with whether it runs.
 */
export async function ensureConsoleClock(root: string, pidDir: string, waitMs = 5000): Promise<boolean> {
  if (clockRunning(pidDir)) return true;
  if (!spawnClock(root)) return false;
  const end = Date.now() + waitMs;
  while (Date.now() < end) {
    if (clockRunning(pidDir)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

function spawnClock(root: string): boolean {
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, root], {
      detached: true, stdio: 'ignore', cwd: path.dirname(MAIN), env: { ...process.env, PVMLAB_HOME: root },
    });
    child.on('error', () => {});
    child.unref();
    return true;
  } catch {
    return false;
  }
}
