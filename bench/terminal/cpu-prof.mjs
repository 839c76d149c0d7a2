// `node --import ./bench/terminal/cpu-prof.mjs …`: V8's sampling profiler (what `--cpu-prof` does) for a
// process started with NODE_OPTIONS, which may not carry --cpu-prof itself. Only with
// $PVMLAB_CPU_PROF_DIR set. Each SIGUSR2 toggles it: the first starts a profile, the next writes it to
// $PVMLAB_CPU_PROF_DIR/<pid>-<n>.cpuprofile — so a bench profiles exactly the window it measures
// (bench/terminal/byte-path.ts --profile). A profile still running at exit is written then.
import fs from 'node:fs';
import inspector from 'node:inspector';
import path from 'node:path';

const dir = process.env.PVMLAB_CPU_PROF_DIR;
if (dir) {
  const session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 250 });
  let running = false;
  let n = 0;
  // The in-process session answers synchronously, so a stop inside 'exit' runs to the end.
  const stop = () => {
    running = false;
    session.post('Profiler.stop', (err, res) => {
      if (err) return;
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, `${process.pid}-${++n}.cpuprofile`), JSON.stringify(res.profile));
    });
  };
  process.on('SIGUSR2', () => { if (running) stop(); else { running = true; session.post('Profiler.start'); } });
  // A process with no SIGTERM handler of its own would die without 'exit': exit instead (143, as the signal would).
  process.on('SIGTERM', () => { if (process.listenerCount('SIGTERM') === 1) process.exit(143); });
  process.on('exit', () => { if (running) stop(); });
}
