// issue 11 #4 and #6 against the real tool: dnsmasq (the pxeboot stack's DHCP options) serves the
// reservations pvmlab renders, and busybox udhcpc asks for an address with a VM's MAC — a real DHCP
// exchange on a veth pair between two network namespaces created for the test (needs root; nothing leaves them).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempLab } from '../testing/guests.ts';
import type { Lab } from '../lab.ts';
import { renderReservations } from './pxe.ts';

const tag = `pvf${process.pid % 100000}`;
const SRV = `${tag}-s`, CLI = `${tag}-c`, VS = `${tag}s`, VC = `${tag}c`;
let env: Awaited<ReturnType<typeof tempLab>>;
let lab: Lab;
let dir: string;
let dnsmasq: ResultPromise | null = null;

const ip = (...a: string[]) => execa('ip', a);

beforeAll(async () => {
  env = await tempLab();
  lab = env.lab;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pvdhcp-'));
  await ip('netns', 'add', SRV);
  await ip('netns', 'add', CLI);
  await ip('link', 'add', VS, 'type', 'veth', 'peer', 'name', VC);
  await ip('link', 'set', VS, 'netns', SRV);
  await ip('link', 'set', VC, 'netns', CLI);
  await ip('-n', SRV, 'addr', 'add', '192.168.100.1/24', 'dev', VS);
  await ip('-n', SRV, 'link', 'set', VS, 'up');
}, 60_000);

afterAll(async () => {
  dnsmasq?.kill();
  await dnsmasq?.catch(() => {});
  for (const ns of [SRV, CLI]) await execa('ip', ['netns', 'del', ns], { reject: false });
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  await env?.dispose();
});

/** A DHCP exchange from the client namespace with this MAC: the address dnsmasq leased. */
async function lease(mac: string): Promise<string> {
  await ip('-n', CLI, 'link', 'set', VC, 'down');
  await ip('-n', CLI, 'link', 'set', VC, 'address', mac);
  await ip('-n', CLI, 'link', 'set', VC, 'up');
  const r = await execa('ip', ['netns', 'exec', CLI, 'busybox', 'udhcpc', '-i', VC, '-n', '-q', '-f', '-t', '5', '-T', '1', '-s', '/bin/true'], { all: true, timeout: 30_000, reject: false });
  const m = /lease of (\S+) obtained/.exec(String(r.all));
  if (!m) throw new Error(`no lease for ${mac}:\n${r.all}`);
  return m[1];
}

describe('the addresses pvmlab gives are the addresses dnsmasq hands out', () => {
  it('a disk-boot target with --ip gets it over DHCP; reservations saved before the plan was checked are not served', async () => {
    const image = path.join(dir, 'base.raw');
    await execa('qemu-img', ['create', '-q', '-f', 'raw', image, '1M']);
    await lab.createVm({ name: 'prov', role: 'provisioner', boot: 'kernel', kernel: '/bin/true', memory: '256M' });
    const stat1 = await lab.createVm({ name: 'stat1', arch: 'aarch64', image, ip: '192.168.100.30' });
    // two reservations written before addresses were checked: the provisioner's and the broadcast address
    const file = lab.home.inside('configs', 'pxe.json');
    const state = JSON.parse(fs.readFileSync(file, 'utf8')) as { reservations: unknown[] };
    state.reservations.push({ mac: '52:54:00:ee:00:01', ip: '192.168.100.1', hostname: 'oldone', profile: { kind: 'exit' } },
      { mac: '52:54:00:ee:00:ff', ip: '192.168.100.255', hostname: 'oldbcast', profile: { kind: 'exit' } });
    fs.writeFileSync(file, JSON.stringify(state));

    const hosts = path.join(dir, 'reservations');
    fs.writeFileSync(hosts, renderReservations(lab.provisioner.usableReservations()));
    expect(fs.readFileSync(hosts, 'utf8')).toBe(`${stat1.mac},192.168.100.30,stat1\n`);
    const cfg = lab.vms.config().network;
    // The pxeboot stack's DHCP lines (pxeboot_stack/entrypoint.sh), on the test's veth.
    dnsmasq = execa('ip', ['netns', 'exec', SRV, 'dnsmasq', '--no-daemon', '--conf-file=/dev/null', '--port=0', '--user=root',
      `--interface=${VS}`, '--bind-interfaces', `--dhcp-range=set:lab,${cfg.dhcpStart},${cfg.dhcpEnd},255.255.255.0,1h`,
      '--dhcp-authoritative', `--dhcp-hostsfile=${hosts}`, `--dhcp-leasefile=${path.join(dir, 'leases')}`, `--pid-file=${path.join(dir, 'pid')}`]);
    dnsmasq.catch(() => {});
    await new Promise((r) => setTimeout(r, 500));

    expect(await lease(stat1.mac)).toBe('192.168.100.30');
    expect((await lab.listVms()).find((v) => v.name === 'stat1')?.privateIp).toBe('192.168.100.30');
    for (const mac of ['52:54:00:ee:00:01', '52:54:00:ee:00:ff']) {
      const got = await lease(mac);
      const n = Number(got.split('.')[3]);
      expect(got.startsWith('192.168.100.') && n >= 100 && n <= 200, `${mac} got ${got}`).toBe(true);
    }
  }, 120_000);
});
