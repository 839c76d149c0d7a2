import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { onCleanup, tmpDir } from './testing/cleanup.ts';
import { ConflictError, NotFoundError, getRecord, listRecords, lockHolder, readRecord, withVmLock, writeRecord } from './store.ts';
import { processStart } from './pids.ts';
import { bareHome, testRecord } from './testing/records.ts';
import type { LabHome } from './home.ts';

const FIXTURE = path.resolve(path.dirname(new URL(import.meta.url).pathname), 'testing/store-child.ts');


function tmpHome(): LabHome {
  return bareHome(tmpDir());
}

interface Child { proc: ChildProcess; pid: number; lines: string[]; line(n: number): Promise<string>; exit: Promise<number | null> }

function child(args: string[]): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', FIXTURE, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  onCleanup(() => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL'); });
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  let buf = '';
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
    for (const w of waiters.splice(0)) w();
  });
  const exit = new Promise<number | null>((r) => proc.on('exit', (code) => { r(code); for (const w of waiters.splice(0)) w(); }));
  const line = async (n: number): Promise<string> => {
    while (lines.length <= n) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`child exited with ${proc.exitCode}; output: ${lines.join(' | ')}`);
      await new Promise<void>((r) => waiters.push(r));
    }
    return lines[n];
  };
  return { proc, pid: proc.pid!, lines, line, exit };
}

/** The pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const p = spawn('true');
  await new Promise((r) => p.on('exit', r));
  return p.pid!;
}

/** A lock file's content: pid, operation, the owner's start tick (pids.ts processStart). */
const lockText = (pid: number, op: string) => new RegExp(`^${pid}\\n${op}\\n\\d+\\n$`);
const busy = (pid: number, op: string) => `VM 'vm1' is busy (${op} in process ${pid}): try again when it finishes`;

describe('withVmLock across processes', () => {
  it('one holder at a time: others get a ConflictError naming its pid and operation, then take it after release', async () => {
    const home = tmpHome();
    const holder = child(['hold', home.root, 'vm1', 'start']);
    expect(await holder.line(0)).toBe('got');
    expect(fs.readFileSync(home.vmLock('vm1'), 'utf8')).toMatch(lockText(holder.pid, 'start'));

    const other = child(['hold', home.root, 'vm1', 'stop']);
    expect(await other.line(0)).toBe(`busy ${busy(holder.pid, 'start')}`);
    expect(await other.exit).toBe(0);

    let ran = false;
    const err = await withVmLock(home, 'vm1', 'clean', async () => { ran = true; }).catch((e) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(err.message).toBe(busy(holder.pid, 'start'));
    expect(ran).toBe(false);
    expect(fs.readFileSync(home.vmLock('vm1'), 'utf8')).toMatch(lockText(holder.pid, 'start')); // untouched by the losers

    holder.proc.stdin!.write('release\n');
    expect(await holder.line(1)).toBe('released');
    expect(await holder.exit).toBe(0);
    expect(fs.existsSync(home.vmLock('vm1'))).toBe(false);
    expect(await withVmLock(home, 'vm1', 'clean', async () => fs.readFileSync(home.vmLock('vm1'), 'utf8'))).toMatch(lockText(process.pid, 'clean'));
    expect(fs.existsSync(home.vmLock('vm1'))).toBe(false);
  });

  it('takes over the stale lock of a process that died holding it', async () => {
    const home = tmpHome();
    const dead = child(['hold', home.root, 'vm1', 'start']);
    expect(await dead.line(0)).toBe('got');
    dead.proc.stdin!.write('die\n');
    expect(await dead.exit).toBe(3);
    expect(fs.readFileSync(home.vmLock('vm1'), 'utf8')).toMatch(lockText(dead.pid, 'start'));

    const heir = child(['hold', home.root, 'vm1', 'stop']);
    expect(await heir.line(0)).toBe('got');
    expect(fs.readFileSync(home.vmLock('vm1'), 'utf8')).toMatch(lockText(heir.pid, 'stop'));
    heir.proc.stdin!.write('release\n');
    expect(await heir.exit).toBe(0);
    expect(fs.existsSync(home.vmLock('vm1'))).toBe(false);
  });

  it('takes over a lock whose pid is alive but belongs to another process now (a reused pid)', async () => {
    const home = tmpHome();
    const other = spawn('sleep', ['30']);
    onCleanup(() => { other.kill(); });
    fs.writeFileSync(home.vmLock('vm1'), `${other.pid}\nstart\n1\n`); // start tick 1: not that sleep
    expect(lockHolder(home.vmLock('vm1'))).toBeNull();
    expect(await withVmLock(home, 'vm1', 'stop', async () => fs.readFileSync(home.vmLock('vm1'), 'utf8'))).toMatch(lockText(process.pid, 'stop'));
    // …while the same pid with its real start time (or a lock of an older version, without one) is busy.
    fs.writeFileSync(home.vmLock('vm1'), `${other.pid}\nstart\n${processStart(other.pid!)}\n`);
    expect(lockHolder(home.vmLock('vm1'))).toEqual({ pid: other.pid, op: 'start' });
    fs.writeFileSync(home.vmLock('vm1'), `${other.pid}\nstart\n`);
    expect(lockHolder(home.vmLock('vm1'))).toEqual({ pid: other.pid, op: 'start' });
  });

  it('gives a stale lock to exactly one of several processes contending for it', async () => {
    const home = tmpHome();
    fs.writeFileSync(home.vmLock('vm1'), `${await deadPid()}\nstart\n`);
    const kids = [0, 1, 2, 3].map(() => child(['hold', home.root, 'vm1', 'stop', 'wait']));
    for (const k of kids) expect(await k.line(0)).toBe('waiting');
    for (const k of kids) k.proc.stdin!.write('go\n');
    const outcomes = await Promise.all(kids.map((k) => k.line(1)));
    const winners = kids.filter((_, i) => outcomes[i] === 'got');
    expect(winners.length).toBe(1);
    expect(outcomes.filter((o) => o !== 'got')).toEqual(Array(3).fill(`busy ${busy(winners[0].pid, 'stop')}`));
    expect(fs.readFileSync(home.vmLock('vm1'), 'utf8')).toMatch(lockText(winners[0].pid, 'stop'));
    winners[0].proc.stdin!.write('release\n');
    for (const k of kids) expect(await k.exit).toBe(0);
    expect(fs.readdirSync(home.lockDir)).toEqual([]); // no lock, no temp or set-aside files
  });

  it('never lets two contending processes hold it at once', async () => {
    const home = tmpHome();
    const kids = [0, 1, 2].map(() => child(['hammer', home.root, 'vm1', '2000']));
    const stats = await Promise.all(kids.map(async (k) => JSON.parse(await k.line(0)) as { acquired: number; busy: number; violations: number }));
    for (const k of kids) expect(await k.exit).toBe(0);
    expect(stats.map((s) => s.violations)).toEqual([0, 0, 0]);
    expect(stats.reduce((n, s) => n + s.acquired, 0)).toBeGreaterThan(0);
    expect(fs.readdirSync(home.lockDir)).toEqual([]);
  });

  it('is released when the operation throws, and is busy for a second operation in the same process', async () => {
    const home = tmpHome();
    const boom = new Error('boom');
    const inner = await withVmLock(home, 'vm1', 'start', async () => {
      const e = await withVmLock(home, 'vm1', 'stop', async () => 1).catch((x) => x);
      throw Object.assign(boom, { inner: e });
    }).catch((e) => e);
    expect(inner).toBe(boom);
    expect(inner.inner).toBeInstanceOf(ConflictError);
    expect(inner.inner.message).toBe(busy(process.pid, 'start'));
    expect(fs.existsSync(home.vmLock('vm1'))).toBe(false);
    expect(await withVmLock(home, 'vm1', 'stop', async () => 7)).toBe(7);
  });
});

describe('VM records', () => {
  it('are written atomically: a reader in this process never sees a partial record while another process rewrites it', async () => {
    const home = tmpHome();
    const short = testRecord('vm1', { cpus: 1 });
    const long = testRecord('vm1', { append: 'x'.repeat(20_000), cpus: 2 });
    writeRecord(home, short);
    const writer = child(['write', home.root, 'vm1', '200']);
    let reads = 0;
    const seen = new Set<number>();
    while (writer.lines.length === 0 && writer.proc.exitCode === null) {
      const r = readRecord(home, 'vm1'); // throws on a torn file
      expect(r).toEqual(r!.cpus === 1 ? short : long);
      seen.add(r!.cpus);
      reads++;
      await new Promise((res) => setImmediate(res));
    }
    expect(await writer.line(0)).toBe('done');
    expect(reads).toBeGreaterThan(0);
    expect(readRecord(home, 'vm1')).toEqual(long); // the last of 200 writes (i = 199) is the long one
    expect(fs.readdirSync(home.dir('vms')).sort()).toEqual(['.locks', 'vm1.json']); // no temp files left
  });

  it('are validated before writing, listed provisioner first then by name, and missing ones say how to look', () => {
    const home = tmpHome();
    writeRecord(home, testRecord('zeta'));
    writeRecord(home, testRecord('alpha'));
    writeRecord(home, testRecord('prov', { role: 'provisioner' }));
    fs.writeFileSync(path.join(home.dir('vms'), 'notes.txt'), 'x');
    fs.writeFileSync(path.join(home.dir('vms'), '.hidden.json'), '{');
    expect(listRecords(home).map((r) => r.name)).toEqual(['prov', 'alpha', 'zeta']);
    const before = fs.readFileSync(home.vmRecord('alpha'), 'utf8');
    expect(() => writeRecord(home, { ...testRecord('alpha'), cpus: 1.5 })).toThrow();
    expect(fs.readFileSync(home.vmRecord('alpha'), 'utf8')).toBe(before);
    expect(before).toBe(JSON.stringify(testRecord('alpha'), null, 2) + '\n');
    expect(readRecord(home, 'nope')).toBe(null);
    expect(() => getRecord(home, 'nope')).toThrow(NotFoundError);
    expect(() => getRecord(home, 'nope')).toThrow("no VM named 'nope' (see: pvmlab vm list)");
  });
});
