// Test fixture run as a child process (node --import tsx store-child.ts <mode> <home> <vm> …) to exercise
// the VM lock and atomic record writes across processes. Modes:
//   hold <what> [wait]  (with wait: print "waiting", read a line first) take the lock; print "got" or
//                    "busy <message>"; then on stdin "release" let go and exit 0, on "die" exit 3 still
//                    holding it (a stale lock)
//   hammer <ms>      take and release the lock in a loop; inside, check the lock file is still ours;
//                    print {"acquired","busy","violations"} as JSON
//   write <count>    rewrite the record count times, alternating a short and a long one; print "done"
import fs from 'node:fs';
import readline from 'node:readline';
import { ConflictError, withVmLock, writeRecord } from '../store.ts';
import { LabHome } from '../home.ts';
import { processStart } from '../pids.ts';
import { testRecord } from './records.ts';

const [mode, root, name, arg, arg2] = process.argv.slice(2);
const home = new LabHome(root);
const say = (line: string) => process.stdout.write(line + '\n');

if (mode === 'hold') {
  const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  if (arg2 === 'wait') { say('waiting'); await lines.next(); }
  try {
    await withVmLock(home, name, arg, async () => {
      say('got');
      for (;;) {
        const l = await lines.next();
        if (l.value === 'die') process.exit(3);
        if (l.done || l.value === 'release') break;
      }
    });
    say('released');
    process.exit(0);
  } catch (e) {
    say(`busy ${(e as Error).message}`);
    process.exit(e instanceof ConflictError ? 0 : 1);
  }
} else if (mode === 'hammer') {
  const end = Date.now() + Number(arg);
  const mine = `${process.pid}\nhammer\n${processStart(process.pid)}\n`;
  let acquired = 0, busy = 0, violations = 0;
  while (Date.now() < end) {
    try {
      await withVmLock(home, name, 'hammer', async () => {
        acquired++;
        for (let i = 0; i < 3; i++) {
          let now = '';
          try { now = fs.readFileSync(home.vmLock(name), 'utf8'); } catch { /* removed under us */ }
          if (now !== mine) violations++;
          await new Promise((r) => setImmediate(r));
        }
      });
    } catch (e) {
      if (!(e instanceof ConflictError)) throw e;
      busy++;
    }
    await new Promise((r) => setImmediate(r));
  }
  say(JSON.stringify({ acquired, busy, violations }));
} else if (mode === 'write') {
  for (let i = 0; i < Number(arg); i++) {
    writeRecord(home, testRecord(name, i % 2 ? { append: 'x'.repeat(20_000), cpus: 2 } : { cpus: 1 }));
  }
  say('done');
}
