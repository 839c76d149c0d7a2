// Issue 12 cases 5, 7, 10 on a real lab home: broken records, planted symlinks, names that are paths.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LabHome } from './home.ts';
import { Lab } from './lab.ts';
import { BrokenRecordError } from './store.ts';

const tmps: string[] = [];
async function newLab(): Promise<{ lab: Lab; home: LabHome; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pvr-'));
  tmps.push(dir);
  const home = new LabHome(path.join(dir, 'lab'));
  return { lab: await Lab.open(home), home, dir };
}
afterEach(() => { for (const d of tmps.splice(0)) fs.rmSync(d, { recursive: true, force: true }); });

function kernelFile(dir: string): string {
  const k = path.join(dir, 'vmlinuz');
  fs.writeFileSync(k, 'not really a kernel');
  return k;
}

describe('(case 5) one bad record does not take the lab down', () => {
  it('truncated, corrupt, misnamed and symlinked records are listed as broken; the rest works', async () => {
    const { lab, home, dir } = await newLab();
    await lab.createVm({ name: 'good', boot: 'kernel', kernel: kernelFile(dir), memory: '256M' });
    const good = fs.readFileSync(home.vmRecord('good'), 'utf8');
    fs.writeFileSync(home.vmRecord('trunc'), good.slice(0, 40));
    fs.writeFileSync(home.vmRecord('corrupt'), '{"version": 1, "name": "corrupt"}');
    fs.writeFileSync(home.vmRecord('alias'), good); // names 'good' inside
    fs.symlinkSync('/etc/passwd', home.vmRecord('evil'));
    expect(lab.vms.list().map((v) => v.name)).toEqual(['good']);
    expect((await lab.listVms()).map((v) => v.name)).toEqual(['good']);
    const broken = lab.vms.broken();
    expect(broken.map((b) => b.name).sort()).toEqual(['alias', 'corrupt', 'evil', 'trunc']);
    for (const b of broken) {
      expect(b.file).toBe(home.vmRecord(b.name));
      expect(b.fix).toBe(`pvmlab vm clean ${b.name}`);
    }
    expect(broken.find((b) => b.name === 'trunc')!.reason).toMatch(/not valid JSON/);
    expect(broken.find((b) => b.name === 'alias')!.reason).toMatch(/names VM 'good'/);
    expect(broken.find((b) => b.name === 'evil')!.reason).toMatch(/symlink/);
    // The panel starts on such a home (sweep + watcher), and a crash of a VM whose record broke is survived.
    expect(() => lab.watch()).not.toThrow();
    expect(() => lab.vms.markCrashed('trunc')).not.toThrow();
    await lab.close();
    // Creating another VM works; creating over a broken name says which file and how to remove it.
    await lab.createVm({ name: 'other', boot: 'kernel', kernel: kernelFile(dir), memory: '256M' });
    await expect(lab.createVm({ name: 'trunc', boot: 'kernel', kernel: kernelFile(dir) })).rejects.toThrow(BrokenRecordError);
    await expect(lab.createVm({ name: 'trunc', boot: 'kernel', kernel: kernelFile(dir) })).rejects.toThrow(/vms\/trunc\.json is broken.*pvmlab vm clean trunc/);
    // The advertised fix works, and a symlinked record is removed as a link: its target stays.
    for (const n of ['trunc', 'corrupt', 'alias', 'evil']) await lab.cleanVm(n);
    expect(lab.vms.broken()).toEqual([]);
    expect(fs.existsSync('/etc/passwd')).toBe(true);
    expect(lab.vms.list().map((v) => v.name)).toEqual(['good', 'other']);
  });
});

describe('(case 7) symlinks planted in the home are never followed', () => {
  it('a log symlink refuses start (nothing written outside); the log API refuses to read through it', async () => {
    const { lab, home, dir } = await newLab();
    await lab.createVm({ name: 'a', boot: 'kernel', kernel: kernelFile(dir), memory: '256M' });
    const outside = path.join(dir, 'outside.txt');
    fs.writeFileSync(outside, 'precious\n');
    fs.rmSync(home.vmLog('a'), { force: true });
    fs.symlinkSync(outside, home.vmLog('a'));
    await expect(lab.vms.start('a')).rejects.toThrow(/logs\/a\.log is a symlink.*rm /);
    expect(() => lab.consoleLog('a', 0)).toThrow(/symlink/);
    expect(fs.readFileSync(outside, 'utf8')).toBe('precious\n');
    expect(lab.vms.get('a').status).toBe('stopped');
  });
  it('a planted disk symlink makes create refuse instead of qemu-img overwriting the target', async () => {
    const { lab, home, dir } = await newLab();
    const outside = path.join(dir, 'outside.img');
    fs.writeFileSync(outside, 'precious');
    fs.symlinkSync(outside, home.vmDisk('p'));
    await expect(lab.createVm({ name: 'p', boot: 'pxe', role: 'target' })).rejects.toThrow(/vm-p\.qcow2 already exists \(a symlink\).*pvmlab vm clean p/);
    expect(fs.readFileSync(outside, 'utf8')).toBe('precious');
    // vm clean removes the orphan of a name without a record (the link, not its target).
    await lab.cleanVm('p');
    expect(fs.existsSync(home.vmDisk('p'))).toBe(false);
    expect(fs.readFileSync(outside, 'utf8')).toBe('precious');
  });
});

describe('(case 10) a name is a name, never a path', () => {
  it.each(['../configs/lab', '../vms/c6', 'a/b', '', '.', 'A', 'x'.repeat(40), '%00'])('%j is refused with the schema\'s reason', async (name) => {
    const { lab, home } = await newLab();
    for (const op of [() => lab.vms.start(name), () => lab.vms.stop(name), () => lab.cleanVm(name), async () => lab.vms.get(name), async () => lab.consoleLog(name, 0)]) {
      await expect(op()).rejects.toThrow(/^name: .*is not a VM name: use 1–32 characters/);
    }
    expect(fs.existsSync(path.join(home.dir('vms'), 'vms'))).toBe(false);
    expect(fs.readdirSync(home.lockDir)).toEqual([]);
  });
});

describe('(case 6) kernel/initrd must be regular files', () => {
  it('a kernel replaced by a FIFO: start refused at once naming the field; the lock is free (stop/clean work)', async () => {
    const { lab, dir } = await newLab();
    const k = kernelFile(dir);
    await lab.createVm({ name: 'f', boot: 'kernel', kernel: k, memory: '256M' });
    fs.rmSync(k);
    await (await import('execa')).execa('mkfifo', [k]);
    const t0 = Date.now();
    await expect(lab.vms.start('f')).rejects.toThrow(/^kernel: .* is not a regular file/);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(lab.vms.get('f').status).toBe('stopped');
    await lab.vms.stop('f');
    await lab.cleanVm('f');
    await expect(lab.createVm({ name: 'g', boot: 'kernel', kernel: k })).rejects.toThrow(/^kernel: .* is not a regular file/);
  });
});

describe('(case 9) stale locks and leftovers of an interrupted operation', () => {
  it('a lock whose owner died shows no transition; panel start sweeps stale locks and orphans only', async () => {
    const { lab, home, dir } = await newLab();
    await lab.createVm({ name: 'a', boot: 'kernel', kernel: kernelFile(dir), memory: '256M' });
    const child = (await import('execa')).execa('true');
    const dead = child.pid!;
    await child;
    fs.writeFileSync(home.vmLock('a'), `${dead}\nstart\n`);
    fs.writeFileSync(home.vmLock('_lab'), `${dead}\ncreate\n`);
    expect(lab.vms.get('a').status).toBe('stopped');
    // A live owner (this process) does show the transition.
    fs.writeFileSync(home.vmLock('a'), `${process.pid}\nstart\n`);
    expect(lab.vms.get('a').status).toBe('starting');
    fs.writeFileSync(home.vmLock('a'), `${dead}\nstart\n`);
    fs.writeFileSync(home.vmDisk('orphan'), 'half a disk');
    fs.mkdirSync(path.join(home.dir('configs'), '.orphan.iso.seed-abc'));
    fs.writeFileSync(home.vmSeedIso('orphan'), 'iso');
    const { sweepHome } = await import('./sweep.ts');
    const removed = sweepHome(home).map((p) => path.relative(home.root, p)).sort();
    expect(removed).toEqual(['configs/.orphan.iso.seed-abc', 'configs/orphan.iso', 'images/vm-orphan.qcow2', 'vms/.locks/_lab.lock', 'vms/.locks/a.lock']);
    expect(fs.existsSync(home.vmSeedIso('a'))).toBe(true);
    expect(fs.existsSync(home.vmRecord('a'))).toBe(true);
  });
  it('while a live create holds the lab lock, its half-made files are left alone', async () => {
    const { home } = await newLab();
    fs.writeFileSync(home.vmLock('_lab'), `${process.pid}\ncreate\n`);
    fs.writeFileSync(home.vmDisk('making'), 'in progress');
    const { sweepHome } = await import('./sweep.ts');
    expect(sweepHome(home)).toEqual([]);
    expect(fs.existsSync(home.vmDisk('making'))).toBe(true);
  });
});
