// issue 11 #2 with the real tools: a lab home of 75 characters (a long folder under a short parent). QEMU binds its
// QMP, event and serial sockets, and OpenSSH its ControlMaster socket (first under a temporary name 17
// bytes longer) — all in the lab's short run directory. Boots the tiny test guest as a provisioner (TCG).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabHome } from './home.ts';
import { Lab } from './lab.ts';
import { testGuest, until, waitForLog, type TestGuest } from './testing/guests.ts';

const BIN = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../bin/pvmlab.mjs');
let parent: string;
let root: string;
let lab: Lab;
let guest: TestGuest;

beforeAll(async () => {
  guest = await testGuest('x86_64');
  parent = fs.mkdtempSync(path.join(os.tmpdir(), 'pvl-'));
  root = path.join(parent, 'x'.repeat(59)); // 16 + 59 = 75 characters (mkdtemp adds 6)
  lab = await Lab.open(new LabHome(root));
}, 600_000);
afterAll(async () => {
  await lab?.cleanLab({ removeKey: true }).catch(() => {});
  await lab?.close();
  fs.rmSync(parent, { recursive: true, force: true });
  if (lab) fs.rmSync(lab.home.runDir, { recursive: true, force: true });
});

describe('a 75-character lab home', () => {
  it('QEMU\'s sockets and the ssh control master work; vm shell prov -- true exits 0', async () => {
    expect(root).toHaveLength(75);
    await lab.createVm({ name: 'prov', role: 'provisioner', boot: 'kernel', kernel: guest.kernel, initrd: guest.initrd, sshUser: 'root',
      memory: '256M', append: `console=${guest.console} pvmlab.hostname=prov pvmlab.uplink=dhcp` });
    await lab.vms.start('prov');
    expect(await lab.vms.queryStatus('prov')).toBe('running');
    for (const s of [lab.home.vmQmp('prov'), lab.home.vmEvents('prov'), lab.home.vmSerial('prov')]) {
      expect(fs.lstatSync(s).isSocket(), s).toBe(true);
      expect(path.dirname(s)).toBe(lab.home.runDir);
    }
    await waitForLog(lab, 'prov', /PVMLAB-GUEST-READY hostname=prov/, 120_000);
    const argv = lab.sshArgv('prov', ['hostname']);
    const r = await until('ssh to the guest', async () => {
      const x = await execa(argv[0], argv.slice(1), { reject: false, timeout: 60_000 });
      expect(x.stderr).not.toMatch(/too long/);
      return x.exitCode === 0 ? x : null;
    }, 120_000, 2000);
    expect(r.stdout.trim()).toBe('prov');
    // The master is up (ControlPersist): its socket is in the run directory, under the final name.
    const masters = fs.readdirSync(lab.home.runDir).filter((f) => f.startsWith('cm-'));
    expect(masters).toHaveLength(1);
    expect(masters[0]).toMatch(/^cm-[0-9a-f]{40}$/);
    const shell = await execa('node', [BIN, 'vm', 'shell', 'prov', '--', 'true'], { env: { ...process.env, PVMLAB_HOME: root }, reject: false });
    expect(shell.stderr).toBe('');
    expect(shell.exitCode).toBe(0);
    const { step } = await lab.vms.stop('prov', { graceMs: 20_000 });
    expect(['powerdown', 'quit']).toContain(step);
    await execa('ssh', ['-F', argv[2], '-O', 'exit', 'prov'], { reject: false });
  }, 300_000);
});
