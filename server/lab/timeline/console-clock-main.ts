// Entry of the console clock daemon: `node --import tsx console-clock-main.ts <lab home>` (console-clock-daemon.ts
// starts it). Takes .console-clock.pid in the lab's run dir exclusively (another live clock → exit at once), stamps until no VM
// of the lab runs, then removes its pid file.
import fs from 'node:fs';
import { LabHome } from '../home.ts';
import { ensureRunDir } from '../rundir.ts';
import { livePid } from '../qemu/process.ts';
import { clockPidFile, clockRunning } from './console-clock-daemon.ts';
import { runConsoleClock } from './console-clock.ts';

const home = new LabHome(process.argv[2]);
const logsDir = home.dir('logs');
ensureRunDir(home.runDir);
const pidFile = clockPidFile(home.runDir);

function takePidFile(): boolean {
  for (let i = 0; i < 2; i++) {
    try {
      fs.writeFileSync(pidFile, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return true;
    } catch {
      if (clockRunning(home.runDir)) return false;
      fs.rmSync(pidFile, { force: true }); // a dead clock's file
    }
  }
  return false;
}

const anyRunning = () => {
  try {
    return fs.readdirSync(home.dir('pids')).some((f) => f.endsWith('.pid') && livePid(home.vmPid(f.slice(0, -4))) !== null);
  } catch { return false; }
};

if (takePidFile()) {
  const release = () => { try { if (fs.readFileSync(pidFile, 'utf8').trim() === String(process.pid)) fs.rmSync(pidFile); } catch { /* gone */ } };
  process.on('SIGTERM', () => { release(); process.exit(0); });
  await runConsoleClock({
    logsDir,
    timesFor: (log) => (/^[^.][^/]*\.log$/.test(log) ? home.vmTimes(log.slice(0, -4)) : null),
    anyRunning,
  });
  release();
}
