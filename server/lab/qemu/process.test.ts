import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { onCleanup, tmpDir } from '../testing/cleanup.ts';
import { isOurQemu, livePid, processAlive, readPid, stopQemu, type StopStep } from './process.ts';
import { waitFor } from '../testing/wait.ts';

const FIXTURE = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../testing/fake-qemu.ts');



interface Fake { child: ChildProcess; pid: number; out: string[]; exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> }

/** Start the fake QEMU fixture and wait for its "ready". */
async function fakeQemu(args: string[]): Promise<Fake> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  onCleanup(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  const out: string[] = [];
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  let buf = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) { out.push(l); if (l === 'ready') resolve(); }
    });
    void exit.then((e) => reject(new Error(`fake QEMU exited before ready: ${JSON.stringify(e)}`)));
  });
  return { child, pid: child.pid!, out, exit };
}

/** Run stopQemu recording each step with the time it began. */
async function stop(pid: number, qmp: string, opts: { graceMs: number; force?: boolean }) {
  const steps: { step: StopStep; at: number }[] = [];
  const t0 = Date.now();
  const result = await stopQemu(pid, qmp, { ...opts, onStep: (step) => steps.push({ step, at: Date.now() - t0 }) });
  return { result, steps: steps.map((s) => s.step), at: steps.map((s) => s.at) };
}

describe('processAlive / readPid', () => {
  it('reads a pid file: a positive integer, else null', () => {
    const d = tmpDir();
    const f = path.join(d, 'p');
    expect(readPid(f)).toBe(null);
    for (const [text, want] of [['4242\n', 4242], [' 17 ', 17], ['0', null], ['-3', null], ['12x', null], ['', null], ['1.5', null]] as const) {
      fs.writeFileSync(f, text);
      expect(readPid(f), JSON.stringify(text)).toBe(want);
    }
  });

  it('is true for a live process, false for a zombie and for a reaped pid', async () => {
    expect(processAlive(process.pid)).toBe(true);
    // sh forks a short child and execs sleep, which never reaps it: the child stays a zombie.
    const sh = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 60'], { stdio: ['ignore', 'pipe', 'inherit'] });
    onCleanup(() => sh.kill('SIGKILL'));
    const zombie = Number(await new Promise<string>((r) => sh.stdout.once('data', (d: Buffer) => r(d.toString().trim()))));
    await waitFor(() => fs.readFileSync(`/proc/${zombie}/stat`, 'utf8').includes(') Z '));
    process.kill(zombie, 0); // the pid still exists…
    expect(processAlive(zombie)).toBe(false); // …but it is not alive
    expect(processAlive(sh.pid!)).toBe(true);
    const gone = new Promise((r) => sh.on('exit', r));
    sh.kill('SIGKILL');
    await gone;
    expect(processAlive(sh.pid!)).toBe(false);
  });
});

describe('stopQemu: powerdown → quit → SIGTERM → SIGKILL, each with its deadline', () => {
  it('stops at powerdown when the guest shuts down', async () => {
    const qmp = path.join(tmpDir(), 'q');
    const q = await fakeQemu([qmp]);
    const r = await stop(q.pid, qmp, { graceMs: 20_000 });
    expect(r.result).toBe('powerdown');
    expect(r.steps).toEqual(['powerdown']);
    expect(q.out).toEqual(['ready', 'cmd system_powerdown']);
    expect(await q.exit).toEqual({ code: 0, signal: null });
  });

  it('sends quit only after the powerdown grace period has passed', async () => {
    const qmp = path.join(tmpDir(), 'q');
    const q = await fakeQemu([qmp, '--powerdown', 'ignore']);
    const r = await stop(q.pid, qmp, { graceMs: 800 });
    expect(r.result).toBe('quit');
    expect(r.steps).toEqual(['powerdown', 'quit']);
    expect(r.at[1] - r.at[0]).toBeGreaterThanOrEqual(800);
    expect(q.out).toEqual(['ready', 'cmd system_powerdown', 'cmd quit']);
    expect(await q.exit).toEqual({ code: 0, signal: null });
  });

  it('force skips the powerdown; a quit never answered gives way to SIGTERM after its deadline', async () => {
    const qmp = path.join(tmpDir(), 'q');
    const q = await fakeQemu([qmp, '--quit', 'hang']);
    const r = await stop(q.pid, qmp, { graceMs: 20_000, force: true });
    expect(r.result).toBe('sigterm');
    expect(r.steps).toEqual(['quit', 'sigterm']);
    expect(r.at[1] - r.at[0]).toBeGreaterThanOrEqual(3000);
    expect(q.out).toEqual(['ready', 'cmd quit']);
    expect(await q.exit).toEqual({ code: null, signal: 'SIGTERM' });
  });

  it('without a QMP socket and with SIGTERM ignored, walks every step down to SIGKILL', async () => {
    const q = await fakeQemu(['-', '--ignore-sigterm']);
    const r = await stop(q.pid, path.join(tmpDir(), 'absent'), { graceMs: 300 });
    expect(r.result).toBe('sigkill');
    expect(r.steps).toEqual(['powerdown', 'quit', 'sigterm', 'sigkill']);
    expect(r.at[1] - r.at[0]).toBeGreaterThanOrEqual(300);
    expect(r.at[2] - r.at[1]).toBeGreaterThanOrEqual(3000);
    expect(r.at[3] - r.at[2]).toBeGreaterThanOrEqual(3000);
    expect(await q.exit).toEqual({ code: null, signal: 'SIGKILL' });
    expect(q.out).toEqual(['ready', 'SIGTERM']);
    expect(processAlive(q.pid)).toBe(false);
  });

  it('stops a real QEMU with no ACPI (no machine) by quit, after the grace period, and knows it as ours until then', async () => {
    const d = tmpDir();
    const pidFile = path.join(d, 'pid');
    await execa('qemu-system-x86_64', ['-machine', 'none', '-display', 'none', '-nodefaults',
      '-qmp', `unix:${d}/q,server=on,wait=off`, '-pidfile', pidFile, '-daemonize']);
    const pid = readPid(pidFile)!;
    onCleanup(() => { if (processAlive(pid)) process.kill(pid, 'SIGKILL'); });
    expect(isOurQemu(pid, pidFile)).toBe(true);
    expect(isOurQemu(pid, path.join(d, 'other.pid'))).toBe(false);
    expect(isOurQemu(process.pid, pidFile)).toBe(false);
    expect(livePid(pidFile)).toBe(pid);
    const r = await stop(pid, `${d}/q`, { graceMs: 500 });
    expect(r.result).toBe('quit');
    expect(r.steps).toEqual(['powerdown', 'quit']);
    expect(r.at[1] - r.at[0]).toBeGreaterThanOrEqual(500);
    expect(processAlive(pid)).toBe(false);
    expect(livePid(pidFile)).toBe(null);
  });

  it('does nothing to a process that is already gone', async () => {
    const q = await fakeQemu(['-']);
    q.child.kill('SIGKILL');
    await q.exit;
    const r = await stop(q.pid, path.join(tmpDir(), 'absent'), { graceMs: 20_000 });
    expect(r.steps).toEqual([]); // no QMP command, no signal to a pid that may be reused
  });
});
