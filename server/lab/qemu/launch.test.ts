// Issue 12 case 6: a launch that would never return is bounded, and a failed launch leaves nothing behind.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LaunchError, launchQemu, strayPids } from './process.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pvq-'));
afterAll(() => { for (const p of strayPids(path.join(dir, 'hang.pid'))) process.kill(p, 'SIGKILL'); fs.rmSync(dir, { recursive: true, force: true }); });

/** A stand-in for `qemu-system-* -daemonize`: forks a child that keeps our stdout and writes the pid file. */
function fakeQemu(mode: 'hang' | 'fail'): string {
  const f = path.join(dir, `qemu-system-fake-${mode}`);
  fs.writeFileSync(f, `#!/bin/sh
for a; do [ "$prev" = -pidfile ] && pf=$a; prev=$a; done
if [ "$1" = child ]; then echo $$ > "$pf"; echo "child holds stdout"; while :; do sleep 1; done; fi
"$0" child "$@" &
sleep 0.3
${mode === 'hang' ? 'wait' : 'echo "qemu: could not load kernel" >&2; exit 1'}
`, { mode: 0o755 });
  return f;
}

describe('launchQemu', () => {
  it('a daemon child that blocks cannot hold the start: deadline, child killed, no pid file', async () => {
    const pid = path.join(dir, 'hang.pid');
    const t0 = Date.now();
    const e = await launchQemu({ binary: fakeQemu('hang'), args: ['-pidfile', pid, '-daemonize'] }, pid, [], { deadlineMs: 1500 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(LaunchError);
    expect((e as Error).message).toMatch(/did not finish starting within 2 s.*blocks when read/);
    expect(Date.now() - t0).toBeLessThan(6000);
    await expect.poll(() => strayPids(pid)).toEqual([]);
    expect(fs.existsSync(pid)).toBe(false);
    expect(fs.readdirSync(dir).filter((f) => f.includes('launch-out'))).toEqual([]);
  });
  it('a launch that fails after forking: the error names QEMU\'s words, the child is killed, no pid file', async () => {
    const pid = path.join(dir, 'fail.pid');
    const e = await launchQemu({ binary: fakeQemu('fail'), args: ['-pidfile', pid, '-daemonize'] }, pid, [], { deadlineMs: 5000 }).catch((x: unknown) => x);
    expect((e as Error).message).toMatch(/QEMU failed to start: .*could not load kernel/s);
    await expect.poll(() => strayPids(pid)).toEqual([]);
    expect(fs.existsSync(pid)).toBe(false);
  });
  it('a binary that is not installed says so', async () => {
    const pid = path.join(dir, 'none.pid');
    await expect(launchQemu({ binary: '/nonexistent/qemu-system-x', args: [] }, pid, [], { deadlineMs: 1000 })).rejects.toThrow(/is not installed/);
  });
});
