import { LabHome } from '../home.ts';
import { removeRunDir } from '../rundir.ts';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { onCleanup, tmpDir } from '../testing/cleanup.ts';
import { clockPidFile, clockRunning, ensureConsoleClock } from './console-clock-daemon.ts';
import { parseClockMarks, runConsoleClock, timeOfOffset } from './console-clock.ts';

describe('runConsoleClock (real fs.watch)', () => {
  it('marks how long each .log was when, in order, and stops once nothing runs', async () => {
    const dir = tmpDir();
    const log = path.join(dir, 'vm1.log');
    fs.writeFileSync(log, 'first line\n');
    let running = true;
    const done = runConsoleClock({ logsDir: dir, timesFor: (f) => path.join(dir, f.replace(/\.log$/, '.times')), anyRunning: () => running, checkEveryMs: 50 });
    await sleep(100);
    const t1 = Date.now();
    fs.appendFileSync(log, 'SeaBIOS (version x)\n');
    await sleep(150);
    const t2 = Date.now();
    fs.appendFileSync(log, 'Linux version 6.1\n');
    await sleep(150);
    running = false;
    await done;
    const marks = parseClockMarks(fs.readFileSync(path.join(dir, 'vm1.times'), 'utf8'));
    expect(marks.map((m) => m.offset)).toEqual([11, 31, 49]);
    expect(timeOfOffset(marks, 11)).toBeGreaterThanOrEqual(t1);
    expect(timeOfOffset(marks, 31)).toBeGreaterThanOrEqual(t2);
    expect(timeOfOffset(marks, 31)! - timeOfOffset(marks, 11)!).toBeGreaterThanOrEqual(100);
  });
});

describe('the console clock daemon', () => {
  it('starts detached once per lab home, times a VM log, and leaves when stopped', async () => {
    const home = tmpDir();
    for (const d of ['logs', 'pids']) fs.mkdirSync(path.join(home, d));
    fs.writeFileSync(path.join(home, 'pids', 'vm1.pid'), `${process.pid}\n`); // "a VM runs": a live pid
    const logs = path.join(home, 'logs');
    const run = new LabHome(home).runDir; // the pid file is runtime state: in the lab's run dir, not the home
    onCleanup(() => removeRunDir(run));
    expect(await ensureConsoleClock(home, run, 30_000)).toBe(true);
    const pid = Number(fs.readFileSync(clockPidFile(run), 'utf8'));
    onCleanup(() => { try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ } });
    expect(await ensureConsoleClock(home, run)).toBe(true); // already running: not a second one
    expect(Number(fs.readFileSync(clockPidFile(run), 'utf8'))).toBe(pid);
    fs.appendFileSync(path.join(logs, 'vm1.log'), 'hello\n');
    let marks: ReturnType<typeof parseClockMarks> = [];
    for (let i = 0; i < 100 && !marks.length; i++) {
      await sleep(100);
      try { marks = parseClockMarks(fs.readFileSync(path.join(logs, 'vm1.times'), 'utf8')); } catch { /* not yet */ }
    }
    expect(marks.at(-1)?.offset).toBe(6);
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 50 && clockRunning(run); i++) await sleep(100);
    expect(clockRunning(run)).toBe(false);
    expect(fs.existsSync(clockPidFile(run))).toBe(false);
    expect(fs.readdirSync(logs).sort()).toEqual(['vm1.log', 'vm1.times']); // nothing of the clock's own in the home
  }, 60_000);
});
