
import path from 'node:path';
import { once } from 'node:events';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { onCleanup, tmpDir } from '../testing/cleanup.ts';
import { FakeQmp } from '../testing/fake-qmp.ts';
import { QmpClient, QmpError, qmpOnce, type QmpEvent } from './qmp.ts';
import { processAlive, readPid } from './process.ts';
import { waitFor } from '../testing/wait.ts';



async function fake(opts: Parameters<typeof FakeQmp.listen>[1] = {}): Promise<FakeQmp> {
  const f = await FakeQmp.listen(path.join(tmpDir(), 'q'), opts);
  onCleanup(() => f.close());
  return f;
}

async function client(f: FakeQmp): Promise<QmpClient> {
  const c = await QmpClient.connect(f.path, 10_000);
  onCleanup(() => c.close());
  return c;
}

describe('QMP client against a fake QMP server', () => {
  it('reads the greeting, negotiates capabilities first, then returns the command result', async () => {
    const f = await fake({ onCommand: (cmd) => (cmd === 'query-status' ? { return: { status: 'running', singlestep: false, running: true } } : undefined) });
    const c = await client(f);
    expect(f.commands).toEqual(['qmp_capabilities']);
    expect(await c.execute('query-status')).toEqual({ status: 'running', singlestep: false, running: true });
    expect(await c.execute('stop')).toEqual({});
    expect(f.commands).toEqual(['qmp_capabilities', 'query-status', 'stop']);
  });

  it('sends arguments and matches concurrent commands to their responses in order, with events interleaved', async () => {
    const seen: unknown[] = [];
    const f = await fake({
      onCommand: (cmd, args, _conn) => {
        seen.push(args);
        // An event before the answer, glued into the same chunk.
        const ev = JSON.stringify({ timestamp: { seconds: 1, microseconds: 2 }, event: 'E-' + cmd, data: { n: seen.length } });
        return `${ev}\n${JSON.stringify({ return: { for: cmd } })}`;
      },
    });
    const c = await client(f);
    const events: QmpEvent[] = [];
    c.on('event', (e) => events.push(e));
    const results = await Promise.all([c.execute('a', { x: 1 }), c.execute('b'), c.execute('c', { y: 'z' })]);
    expect(results).toEqual([{ for: 'a' }, { for: 'b' }, { for: 'c' }]);
    expect(seen).toEqual([{ x: 1 }, undefined, { y: 'z' }]);
    expect(events).toEqual([
      { timestamp: { seconds: 1, microseconds: 2 }, event: 'E-a', data: { n: 1 } },
      { timestamp: { seconds: 1, microseconds: 2 }, event: 'E-b', data: { n: 2 } },
      { timestamp: { seconds: 1, microseconds: 2 }, event: 'E-c', data: { n: 3 } },
    ]);
  });

  it('delivers events that arrive on their own, and reassembles messages split across chunks (UTF-8 included)', async () => {
    const f = await fake({
      onCommand: (cmd, _args, conn) => {
        if (cmd !== 'split') return undefined;
        const raw = Buffer.from(JSON.stringify({ return: { name: 'vm-é✓' } }) + '\n', 'utf8');
        const cut = raw.indexOf(Buffer.from('✓')) + 1; // in the middle of a 3-byte character
        conn.write(raw.subarray(0, cut));
        setTimeout(() => conn.write(raw.subarray(cut)), 50);
        return 'silent';
      },
    });
    const c = await client(f);
    const ev = once(c, 'event');
    f.event('STOP');
    const [stop] = (await ev) as [QmpEvent];
    expect(stop.event).toBe('STOP');
    expect(stop.data).toBeUndefined();
    expect(typeof stop.timestamp?.seconds).toBe('number');
    expect(await c.execute('split')).toEqual({ name: 'vm-é✓' });
  });

  it('rejects a command QEMU refuses with its description, and keeps matching the next ones', async () => {
    const f = await fake();
    const c = await client(f);
    const [bad, good] = await Promise.allSettled([c.execute('nope'), c.execute('cont')]);
    expect(bad.status).toBe('rejected');
    expect((bad as PromiseRejectedResult).reason).toBeInstanceOf(QmpError);
    expect((bad as PromiseRejectedResult).reason.message).toBe('The command nope has not been found');
    expect(good).toEqual({ status: 'fulfilled', value: {} });
  });

  it('rejects every pending command when the socket closes mid-command, emits close once, refuses new commands', async () => {
    const f = await fake({ onCommand: () => 'silent' });
    const c = await client(f);
    let closes = 0;
    c.on('close', () => closes++);
    const p1 = c.execute('quit');
    const p2 = c.execute('cont');
    const settled = Promise.allSettled([p1, p2]);
    await new Promise<void>((r) => { const t = setInterval(() => { if (f.commands.length === 3) { clearInterval(t); r(); } }, 10); });
    f.dropClients();
    const [r1, r2] = await settled;
    expect((r1 as PromiseRejectedResult).reason.message).toBe('QMP connection closed');
    expect((r2 as PromiseRejectedResult).reason.message).toBe('QMP connection closed');
    expect(c.isClosed).toBe(true);
    expect(closes).toBe(1);
    await expect(c.execute('cont')).rejects.toThrow('QMP connection is closed');
    expect(closes).toBe(1);
  });

  it('fails to connect with a sentence: no socket, no greeting, no answer to qmp_capabilities', async () => {
    const missing = path.join(tmpDir(), 'missing');
    await expect(QmpClient.connect(missing, 5000)).rejects.toThrow(`cannot connect to QMP at ${missing}: connect ENOENT ${missing}`);
    const mute = await fake({ greet: false });
    await expect(QmpClient.connect(mute.path, 300)).rejects.toThrow(`QMP at ${mute.path} did not greet within 300 ms`);
    // A QEMU whose main loop hangs still greets (the monitor has its own I/O thread) but never answers.
    const hung = await fake({ hung: true });
    await expect(QmpClient.connect(hung.path, 300)).rejects.toThrow(`QMP at ${hung.path} did not answer qmp_capabilities within 300 ms`);
    await waitFor(() => hung.connections === 0);
    expect(hung.commands).toEqual(['qmp_capabilities']);
  });

  it('qmpOnce runs one command on a short-lived connection, and gives up on a command that is never answered', async () => {
    const f = await fake({ onCommand: (cmd) => (cmd === 'hang' ? 'silent' : cmd === 'query-name' ? { return: { name: 'vm1' } } : undefined) });
    expect(await qmpOnce(f.path, 'query-name')).toEqual({ name: 'vm1' });
    await waitFor(() => f.connections === 0);
    await expect(qmpOnce(f.path, 'hang', undefined, 300)).rejects.toThrow(`QMP at ${f.path} did not answer hang within 300 ms`);
    await waitFor(() => f.connections === 0);
    expect(f.commands).toEqual(['qmp_capabilities', 'query-name', 'qmp_capabilities', 'hang']);
  });
});

describe('QMP client against real QEMU', () => {
  it('negotiates, runs commands, sees STOP/RESUME/SHUTDOWN events and the close when QEMU quits', async () => {
    const d = tmpDir();
    const pidFile = path.join(d, 'pid');
    await execa('qemu-system-x86_64', ['-machine', 'none', '-display', 'none', '-nodefaults',
      '-qmp', `unix:${d}/q,server=on,wait=off`, '-pidfile', pidFile, '-daemonize']);
    const pid = readPid(pidFile)!;
    onCleanup(() => { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } });
    const c = await QmpClient.connect(`${d}/q`, 10_000);
    onCleanup(() => c.close());
    const events: string[] = [];
    c.on('event', (e) => events.push(e.event));
    await expect(c.execute('no-such-command')).rejects.toThrow('The command no-such-command has not been found');
    expect(await c.execute('stop')).toEqual({});
    expect(await c.execute('query-status')).toMatchObject({ status: 'paused', running: false });
    expect(await c.execute('cont')).toEqual({});
    const closed = once(c, 'close');
    await c.execute('quit').catch(() => { /* QEMU may close before answering */ });
    await closed;
    expect(events).toEqual(['STOP', 'RESUME', 'SHUTDOWN']);
    await waitFor(() => !processAlive(pid));
  });
});
