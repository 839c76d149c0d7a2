// Test fixture run as a child process (node --import tsx fake-qemu.ts …): a stand-in for a QEMU process
// whose QMP answers and signal handling a test chooses, to exercise the stop ladder against a real pid.
//   fake-qemu.ts <qmp socket path | -> [--powerdown exit|ignore] [--quit exit|hang] [--ignore-sigterm]
// Prints "ready" once listening, "cmd <name>" for every QMP command and "SIGTERM" when it gets one.
import { FakeQmp } from './fake-qmp.ts';

const [qmpPath, ...flags] = process.argv.slice(2);
const opt = (name: string, dflt: string) => { const i = flags.indexOf(name); return i >= 0 ? flags[i + 1] : dflt; };
const powerdown = opt('--powerdown', 'exit');
const quit = opt('--quit', 'exit');
const say = (line: string) => process.stdout.write(line + '\n');

if (flags.includes('--ignore-sigterm')) process.on('SIGTERM', () => say('SIGTERM'));
setInterval(() => {}, 1 << 30); // stay alive until told otherwise

if (qmpPath && qmpPath !== '-') {
  await FakeQmp.listen(qmpPath, {
    onCommand: (cmd) => {
      say(`cmd ${cmd}`);
      if (cmd === 'system_powerdown' && powerdown === 'exit') setTimeout(() => process.exit(0), 50); // the guest shuts down
      if (cmd === 'quit' && quit === 'exit') setTimeout(() => process.exit(0), 10);
      if (cmd === 'quit' && quit === 'hang') return 'silent';
      return undefined;
    },
  });
}
say('ready');
