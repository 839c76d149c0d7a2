import fs from 'node:fs';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { onCleanup, tmpDir } from './testing/cleanup.ts';
import { Bus } from './bus.ts';
import type { LabHome } from './home.ts';
import type { DoctorReport } from './host.ts';
import { Jobs } from './jobs.ts';
import { processAlive, readPid } from './qemu/process.ts';
import { qmpOnce } from './qemu/qmp.ts';
import { readRecord, writeRecord } from './store.ts';
import { bareHome, testRecord } from './testing/records.ts';
import { Vms } from './vm/lifecycle.ts';
import { VmWatcher } from './watch.ts';
import { waitFor } from './testing/wait.ts';


type VmEvent = { name: string; status: string; detail?: string };

function lab() {
  const root = tmpDir();
  const home = bareHome(root);
  const bus = new Bus();
  const vms = new Vms(home, bus, new Jobs(bus), () => Promise.reject(new Error('no doctor in this test')) as Promise<DoctorReport>);
  const events: VmEvent[] = [];
  bus.on('vm', ({ name, status, detail }) => events.push(detail === undefined ? { name, status } : { name, status, detail }));
  const watcher = new VmWatcher(home, vms, bus);
  onCleanup(() => watcher.close());
  return { home, vms, events, watcher };
}

/** A real QEMU with no machine, daemonized with the control sockets and pid file a VM of the lab has. */
async function startQemu(home: LabHome, name: string): Promise<number> {
  await execa('qemu-system-x86_64', ['-machine', 'none', '-display', 'none', '-nodefaults',
    '-qmp', `unix:${home.vmQmp(name)},server=on,wait=off`,
    '-chardev', `socket,id=events,path=${home.vmEvents(name)},server=on,wait=off`, '-mon', 'chardev=events,mode=control',
    '-pidfile', home.vmPid(name), '-daemonize']);
  const pid = readPid(home.vmPid(name))!;
  onCleanup(async () => { if (processAlive(pid)) { process.kill(pid, 'SIGKILL'); await waitFor(() => !processAlive(pid)); } });
  return pid;
}

/** The watcher holds an event connection to this VM (a test-only look inside). */
const watching = (w: VmWatcher, name: string) => (w as unknown as { conns: Map<string, unknown> }).conns.has(name);

describe('VmWatcher with real QEMU processes', () => {
  it('adopts a VM already running at start and pushes its pause and resume', async () => {
    const { home, events, watcher } = lab();
    writeRecord(home, testRecord('vm1'));
    writeRecord(home, testRecord('idle', { mac: '52:54:00:00:00:02' }));
    await startQemu(home, 'vm1');
    watcher.start();
    await waitFor(() => watching(watcher, 'vm1'));
    expect(watching(watcher, 'idle')).toBe(false);
    await qmpOnce(home.vmQmp('vm1'), 'stop');
    await waitFor(() => events.some((e) => e.status === 'paused'));
    await qmpOnce(home.vmQmp('vm1'), 'cont');
    await waitFor(() => events.some((e) => e.status === 'running'));
    expect(events).toEqual([{ name: 'vm1', status: 'paused', detail: 'STOP' }, { name: 'vm1', status: 'running', detail: 'RESUME' }]);
  });

  it('marks a VM crashed, with its log tail, when QEMU dies without a SHUTDOWN', async () => {
    const { home, vms, events, watcher } = lab();
    writeRecord(home, testRecord('vm1'));
    fs.writeFileSync(home.vmLog('vm1'), 'boot\n\nstep 1\nstep 2\nKernel panic - not syncing\n');
    const pid = await startQemu(home, 'vm1');
    watcher.start();
    await waitFor(() => watching(watcher, 'vm1'));
    process.kill(pid, 'SIGKILL');
    await waitFor(() => events.some((e) => e.status === 'crashed' && e.detail !== undefined));
    expect(events.find((e) => e.detail !== undefined)).toEqual({ name: 'vm1', status: 'crashed', detail: 'step 1\nstep 2\nKernel panic - not syncing' });
    expect(readRecord(home, 'vm1')!.crash!.logTail).toBe('boot\nstep 1\nstep 2\nKernel panic - not syncing');
    expect(fs.existsSync(home.vmPid('vm1'))).toBe(false);
    expect(vms.get('vm1').status).toBe('crashed');
    expect(watching(watcher, 'vm1')).toBe(false);
  });

  it.each(['quit', 'SIGTERM'])('settles a VM that exits on its own (%s) as stopped, not crashed', async (how) => {
    const { home, vms, events, watcher } = lab();
    writeRecord(home, testRecord('vm1'));
    const pid = await startQemu(home, 'vm1');
    watcher.start();
    await waitFor(() => watching(watcher, 'vm1'));
    if (how === 'SIGTERM') process.kill(pid, 'SIGTERM');
    else await qmpOnce(home.vmQmp('vm1'), 'quit').catch(() => { /* QEMU may close before answering */ });
    await waitFor(() => events.some((e) => e.detail === 'powered off'));
    expect(events.filter((e) => e.detail)).toEqual([
      { name: 'vm1', status: 'stopping', detail: 'SHUTDOWN' },
      { name: 'vm1', status: 'stopped', detail: 'powered off' },
    ]);
    await waitFor(() => !processAlive(pid));
    expect(readRecord(home, 'vm1')!.crash).toBe(null);
    expect(fs.existsSync(home.vmPid('vm1'))).toBe(false);
    expect(vms.get('vm1').status).toBe('stopped');
  });

  it('watches a VM started after it (the pid file appearing), and leaves a stop in progress to report itself', async () => {
    const { home, events, watcher } = lab();
    writeRecord(home, testRecord('vm1'));
    watcher.start();
    const pid = await startQemu(home, 'vm1');
    await waitFor(() => watching(watcher, 'vm1'));
    await qmpOnce(home.vmQmp('vm1'), 'stop');
    await waitFor(() => events.some((e) => e.status === 'paused'));
    fs.writeFileSync(home.vmLock('vm1'), `${process.pid}\nstop\n`); // a stop in progress holds the lock
    process.kill(pid, 'SIGKILL');
    await waitFor(() => !watching(watcher, 'vm1'));
    expect(events.filter((e) => e.detail)).toEqual([{ name: 'vm1', status: 'paused', detail: 'STOP' }]);
    expect(readRecord(home, 'vm1')!.crash).toBe(null);
  });

  it('tells about records created and removed by another process', async () => {
    const { home, events, watcher } = lab();
    watcher.start();
    writeRecord(home, testRecord('vm2'));
    await waitFor(() => events.some((e) => e.name === 'vm2'));
    fs.rmSync(home.vmRecord('vm2'));
    await waitFor(() => events.some((e) => e.status === 'removed'));
    expect(new Set(events.map((e) => JSON.stringify(e)))).toEqual(new Set([
      JSON.stringify({ name: 'vm2', status: 'stopped' }), JSON.stringify({ name: 'vm2', status: 'removed' }),
    ]));
  });

  it('does not adopt a pid that is not this VM\'s QEMU, and after close ignores deaths', async () => {
    const { home, events, watcher } = lab();
    writeRecord(home, testRecord('vm1'));
    writeRecord(home, testRecord('vm2', { mac: '52:54:00:00:00:02' }));
    fs.writeFileSync(home.vmPid('vm1'), `${process.pid}\n`); // alive, but not QEMU
    const pid = await startQemu(home, 'vm2');
    watcher.start();
    await watcher.watch('vm1');
    expect(watching(watcher, 'vm1')).toBe(false);
    await waitFor(() => watching(watcher, 'vm2'));
    watcher.close();
    expect(watching(watcher, 'vm2')).toBe(false);
    process.kill(pid, 'SIGKILL');
    await waitFor(() => !processAlive(pid));
    await new Promise((r) => setTimeout(r, 100)); // give a (wrong) close handler the chance to run
    expect(events.filter((e) => e.status === 'crashed')).toEqual([]);
    expect(readRecord(home, 'vm2')!.crash).toBe(null);
  });
});
