// Issue 12, second-uid and fault cases on a real lab: another local user (uid nobody, via setpriv) and a
// VM stopped under a running readiness job. Boots the small test guest under TCG (scripts/without-kvm.sh).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabHome } from './home.ts';
import { Lab } from './lab.ts';
import { testGuest, until, type TestGuest } from './testing/guests.ts';

const AS_NOBODY = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', '--'];
let parent: string;
let lab: Lab;
let guest: TestGuest;
beforeAll(async () => {
  guest = await testGuest('x86_64');
  parent = fs.mkdtempSync(path.join(os.tmpdir(), 'pvn-'));
  fs.chmodSync(parent, 0o755); // others may enter the parent: only the home's own mode protects it
  lab = await Lab.open(new LabHome(path.join(parent, 'lab')));
}, 600_000);
afterAll(async () => {
  await lab.cleanLab({ removeKey: true }).catch(() => {});
  fs.rmSync(parent, { recursive: true, force: true });
});

describe('another local user', () => {
  it('(case 7) cannot list or read the lab home (0700); can list its parent (positive control)', async () => {
    const parentLs = await execa(AS_NOBODY[0], [...AS_NOBODY.slice(1), 'ls', parent], { reject: false });
    expect(parentLs.exitCode).toBe(0);
    expect(parentLs.stdout).toContain('lab');
    for (const p of [lab.home.root, lab.home.dir('logs'), lab.home.privateKey]) {
      const r = await execa(AS_NOBODY[0], [...AS_NOBODY.slice(1), 'ls', p], { reject: false });
      expect(r.exitCode, p).not.toBe(0);
      expect(r.stderr, p).toMatch(/Permission denied/);
    }
  });

  it('(case 13) binding the provisioner\'s SSH port does not make start fail: another free port is used', async () => {
    const vm = await lab.createVm({ name: 'prov', role: 'provisioner', boot: 'kernel', kernel: guest.kernel, initrd: guest.initrd,
      append: `console=${guest.console} pvmlab.hostname=prov`, memory: '256M' });
    const taken = vm.sshPort!;
    let squatter: ChildProcess | null = null;
    try {
      squatter = spawn(AS_NOBODY[0], [...AS_NOBODY.slice(1), '/usr/bin/python3', '-c',
        `import socket,time; s=socket.socket(); s.bind(("127.0.0.1", ${taken})); s.listen(); print("bound", flush=True); time.sleep(600)`], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((r) => squatter!.stdout!.once('data', () => r()));
      // Really another uid holds it.
      const owner = (await execa('ss', ['-Hltnpe', `sport = :${taken}`])).stdout;
      expect(owner).toMatch(/uid:65534/);
      const started = await lab.vms.start('prov');
      expect(started.status).toBe('running');
      expect(started.sshPort).not.toBe(taken);
      expect(lab.vms.get('prov').sshPort).toBe(started.sshPort);
    } finally {
      squatter?.kill('SIGKILL');
    }
  }, 180_000);

  it('(case 13) stopping a VM cancels its readiness job (no job polls a stopped VM)', async () => {
    let polls = 0;
    const job = lab.jobs.run({ kind: 'provisioner', title: 'ready', vm: 'prov' }, async (h) => {
      while (!h.signal.aborted) { polls++; await new Promise((r) => setTimeout(r, 50)); }
      throw new Error('cancelled');
    }).catch(() => {});
    await until('the job polls', () => polls > 2);
    await lab.vms.stop('prov', { force: true });
    await job;
    const view = lab.jobs.list().find((j) => j.vm === 'prov')!;
    expect(view.state).toBe('cancelled');
    const after = polls;
    await new Promise((r) => setTimeout(r, 300));
    expect(polls).toBe(after);
  }, 60_000);
});
