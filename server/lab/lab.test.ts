// The address plan as every path applies it (issue 11 #4, #5, #6): real records, reservations and
// ssh_config on disk in a temp lab; no VM is started (the provisioner exists but is stopped).
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempLab } from './testing/guests.ts';
import type { Lab } from './lab.ts';

let env: Awaited<ReturnType<typeof tempLab>>;
let lab: Lab;
let image: string;

beforeAll(async () => {
  env = await tempLab();
  lab = env.lab;
  image = path.join(env.root, 'base.raw');
  await execa('qemu-img', ['create', '-q', '-f', 'raw', image, '1M']);
  await lab.createVm({ name: 'prov', role: 'provisioner', boot: 'kernel', kernel: '/bin/true', memory: '256M' });
}, 60_000);
afterAll(async () => { await env?.dispose(); });

const err = async (p: Promise<unknown>) => { try { await p; } catch (e) { return { type: (e as Error).constructor.name, message: (e as Error).message }; } throw new Error('expected a rejection'); };

describe('issue 11 #4: one address plan on every path', () => {
  it('pxe.reservations.set and vm create --ip refuse the same four addresses, with the same words', async () => {
    const cases: [string, string][] = [
      ['192.168.100.1', "ip: 192.168.100.1 is the provisioner's address"],
      ['10.9.8.7', 'ip: 10.9.8.7 is outside the private network 192.168.100.0/24: use one of 192.168.100.2–192.168.100.99 or 192.168.100.201–192.168.100.254'],
      ['192.168.100.255', 'ip: 192.168.100.255 is the broadcast address of 192.168.100.0/24, not a host address'],
      ['192.168.100.0', 'ip: 192.168.100.0 is the network address of 192.168.100.0/24, not a host address'],
    ];
    for (const [ip, message] of cases) {
      expect(await err(lab.provisioner.setReservation({ mac: '52:54:00:bb:00:01', ip, hostname: 'r1' })), ip).toEqual({ type: 'BadRequestError', message });
      expect(await err(lab.createVm({ name: 'c1', boot: 'pxe', ip })), ip).toEqual({ type: 'BadRequestError', message });
    }
    expect(lab.provisioner.reservations()).toEqual([]);
    expect(lab.vms.list().map((v) => v.name)).toEqual(['prov']);
  });

  it('a target reserved at the provisioner\'s address before the plan was checked: not published, not believed, vm shell does not land on the provisioner', async () => {
    const t = await lab.createVm({ name: 'tgt1', image });
    fs.writeFileSync(lab.home.inside('configs', 'pxe.json'), JSON.stringify({ reservations: [{ mac: t.mac, ip: '192.168.100.1', hostname: 'tgt1', profile: { kind: 'exit' } }] }));
    expect(lab.provisioner.usableReservations()).toEqual([]);
    expect((await lab.listVms()).find((v) => v.name === 'tgt1')?.privateIp).toBeNull();
    expect(() => lab.sshArgv('tgt1')).toThrow("'tgt1' has no private IP yet");
    const config = fs.readFileSync(lab.sshArgv('prov')[2], 'utf8');
    expect(config).toContain('Host prov\n  HostName 127.0.0.1\n');
    expect(config).not.toContain('Host tgt1');
    fs.rmSync(lab.home.inside('configs', 'pxe.json'));
    await lab.cleanVm('tgt1');
  });

  it('a profile saved before cmdlines were checked still loads (and is not booted mangled); a new one is refused', async () => {
    const legacy = { mac: '52:54:00:bb:00:03', ip: '192.168.100.3', hostname: 'oldk', profile: { kind: 'kernel', kernel: 'k', cmdline: 'a  b\tc' } };
    fs.writeFileSync(lab.home.inside('configs', 'pxe.json'), JSON.stringify({ reservations: [legacy] }));
    expect(lab.provisioner.reservations()).toEqual([legacy]);
    expect(await err(lab.provisioner.setProfile('52:54:00:bb:00:03', { kind: 'kernel', kernel: 'k', cmdline: 'a=${x}' }))).toEqual({ type: 'BadRequestError',
      message: "profile.cmdline: iPXE replaces ${…} with a setting's value and has no escape for it, so 'a=${x}' would not reach the kernel as written (no VM owns this MAC yet, so both iPXE and GRUB must carry it)" });
    fs.rmSync(lab.home.inside('configs', 'pxe.json'));
  });

  it('list, get, the ssh command and ssh_config give one answer', async () => {
    const t = await lab.createVm({ name: 'web', boot: 'pxe', ip: '192.168.100.20' });
    expect(t.privateIp).toBe('192.168.100.20');
    expect((await lab.listVms()).find((v) => v.name === 'web')?.privateIp).toBe('192.168.100.20');
    expect((await lab.getVm('web')).privateIp).toBe('192.168.100.20');
    expect((await lab.getVm('prov')).privateIp).toBe('192.168.100.1');
    const argv = lab.sshArgv('web', ['true']);
    const config = fs.readFileSync(argv[2], 'utf8');
    expect(config).toContain('Host web\n  HostName 192.168.100.20\n');
    // A changed reservation moves the VM with it: record, views and ssh_config.
    await lab.provisioner.setReservation({ mac: t.mac, ip: '192.168.100.21', hostname: 'web' });
    expect(lab.vms.get('web')).toMatchObject({ ip: '192.168.100.21', privateIp: '192.168.100.21' });
    lab.sshArgv('web');
    expect(fs.readFileSync(argv[2], 'utf8')).toContain('Host web\n  HostName 192.168.100.21\n');
    expect(await err(lab.provisioner.removeReservation(t.mac))).toEqual({ type: 'ConflictError',
      message: `mac: the reservation for ${t.mac} belongs to VM 'web' (its address 192.168.100.21): remove the VM (pvmlab vm clean web) to free it` });
    await lab.cleanVm('web');
    expect(lab.provisioner.reservations()).toEqual([]);
  });
});

describe('issue 11 #5: a reservation is never silently overwritten', () => {
  const kernel = { kind: 'kernel', kernel: 'vmlinuz', initrd: 'initrd', cmdline: 'console=ttyS0' } as const;
  it('a VM for a MAC with a reservation adopts it — IP and profile kept, said so (MAC in another spelling)', async () => {
    // made on the PXE page before addresses were checked: inside the dynamic range
    fs.writeFileSync(lab.home.inside('configs', 'pxe.json'), JSON.stringify({ reservations: [{ mac: '52:54:00:aa:00:37', ip: '192.168.100.150', hostname: 'old37', profile: kernel }] }));
    const vm = await lab.createVm({ name: 'pxe2', boot: 'pxe', mac: '52-54-00-AA-00-37' });
    expect(vm.notes).toEqual(['adopted the existing reservation for 52:54:00:aa:00:37: 192.168.100.150, profile kernel, hostname old37 → pxe2']);
    expect(vm).toMatchObject({ mac: '52:54:00:aa:00:37', ip: '192.168.100.150', privateIp: '192.168.100.150' });
    expect(lab.provisioner.reservations()).toEqual([{ mac: '52:54:00:aa:00:37', ip: '192.168.100.150', hostname: 'pxe2', profile: kernel }]);
    expect(await err(lab.createVm({ name: 'pxe5', boot: 'pxe', mac: '52:54:00:aa:00:37' }))).toEqual({ type: 'ConflictError', message: "mac: 52:54:00:aa:00:37 is already used by VM 'pxe2'" });
    await lab.cleanVm('pxe2');
  });
  it('…or CONFLICT naming it when another IP is asked for', async () => {
    await lab.provisioner.setReservation({ mac: '52:54:00:aa:00:38', ip: '192.168.100.38', hostname: 'r38', profile: kernel });
    expect(await err(lab.createVm({ name: 'pxe3', boot: 'pxe', mac: '52:54:00:AA:00:38', ip: '192.168.100.40' }))).toEqual({ type: 'ConflictError',
      message: 'mac: 52:54:00:aa:00:38 already has a reservation (192.168.100.38, hostname r38, profile kernel): leave out --ip to adopt it, or remove that reservation first' });
    expect(lab.provisioner.reservations().find((r) => r.mac === '52:54:00:aa:00:38')).toEqual({ mac: '52:54:00:aa:00:38', ip: '192.168.100.38', hostname: 'r38', profile: kernel });
  });
  it('changing a reservation\'s IP keeps its profile; MACs in any spelling are one MAC', async () => {
    await lab.provisioner.setReservation({ mac: '52-54-00-AA-00-38', ip: '192.168.100.39', hostname: 'r38' });
    expect(lab.provisioner.reservations().filter((r) => r.mac === '52:54:00:aa:00:38')).toEqual([{ mac: '52:54:00:aa:00:38', ip: '192.168.100.39', hostname: 'r38', profile: kernel }]);
    await lab.provisioner.removeReservation('52-54-00-AA-00-38');
    expect(lab.provisioner.reservations().filter((r) => r.mac === '52:54:00:aa:00:38')).toEqual([]);
  });
});

describe('issue 11 #6: an IP a VM is given is an IP it gets', () => {
  it('a disk-boot target with --ip gets a reservation (the rule for every target with an IP)', async () => {
    const vm = await lab.createVm({ name: 'stat1', arch: 'aarch64', image, ip: '192.168.100.30' });
    expect(lab.provisioner.reservations()).toContainEqual({ mac: vm.mac, ip: '192.168.100.30', hostname: 'stat1', profile: { kind: 'exit' } });
    expect(vm.privateIp).toBe('192.168.100.30');
  });
  it('…and that IP cannot be reserved for another MAC', async () => {
    expect(await err(lab.provisioner.setReservation({ mac: '52:54:00:cc:00:01', ip: '192.168.100.30', hostname: 'other' }))).toEqual({ type: 'ConflictError',
      message: "ip: 192.168.100.30 is already held by VM 'stat1': choose another (pvmlab vm list and the PXE page show the ones in use)" });
  });
  it('a target without an IP stays on DHCP (no reservation) unless it boots from the network', async () => {
    const plain = await lab.createVm({ name: 'plain', image });
    expect(plain.privateIp).toBeNull();
    expect(lab.provisioner.reservations().some((r) => r.mac === plain.mac)).toBe(false);
    const pxe = await lab.createVm({ name: 'pxe4', boot: 'pxe' });
    expect(pxe.privateIp).toBe('192.168.100.2');
    expect(pxe.ip).toBe('192.168.100.2');
  });
});

describe('reservation edits and install state (review finding: an IP change must not reinstall a target)', () => {
  it('keeps the install id when the profile stays the same, arms a new one when the install profile changes', async () => {
    const img = { kind: 'image' as const, image: 'disk.raw', sha256: 'a'.repeat(64), format: 'raw' as const };
    await lab.setReservation({ mac: '52:54:00:aa:00:51', ip: '192.168.100.51', hostname: 'inst', profile: img });
    const first = lab.reservations().find((r) => r.mac === '52:54:00:aa:00:51')!;
    expect(first.install).toMatchObject({ status: 'pending', id: expect.any(String) });
    // the CLI's `pxe reservations set` passes the stored profile back: same install
    await lab.setReservation({ mac: '52:54:00:aa:00:51', ip: '192.168.100.52', hostname: 'inst2', profile: first.profile });
    expect(lab.reservations().find((r) => r.mac === '52:54:00:aa:00:51')).toMatchObject({ ip: '192.168.100.52', hostname: 'inst2', install: first.install });
    // no profile given: same install
    await lab.setReservation({ mac: '52:54:00:aa:00:51', ip: '192.168.100.53', hostname: 'inst2' });
    expect(lab.reservations().find((r) => r.mac === '52:54:00:aa:00:51')?.install).toEqual(first.install);
    // another image: a new install
    await lab.setReservation({ mac: '52:54:00:aa:00:51', ip: '192.168.100.53', hostname: 'inst2', profile: { ...img, sha256: 'b'.repeat(64) } });
    const next = lab.reservations().find((r) => r.mac === '52:54:00:aa:00:51')!.install;
    expect(next?.status).toBe('pending');
    expect(next?.id).not.toBe(first.install?.id);
    await lab.removeReservation('52:54:00:aa:00:51');
  });
});
