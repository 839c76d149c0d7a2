import { describe, expect, it } from 'vitest';
import type { Milestone } from './console.ts';
import { diagnose, type BootFacts } from './diagnose.ts';
import { dhcpRounds, type DhcpMessage, type TftpTransfer } from './dnsmasq.ts';
import type { HttpFetch } from './nginx.ts';

const MAC = '52:54:00:aa:00:01';
const msg = (type: string, at: number, o: Partial<DhcpMessage> = {}): DhcpMessage => ({ at, xid: '1', type, iface: 'priv0', mac: MAC, ip: type === 'DISCOVER' ? null : '192.168.100.5',
  note: null, vendorClass: 'PXEClient:Arch:00000:UNDI:002001', userClass: null, tags: [], bootfile: type === 'OFFER' || type === 'ACK' ? 'undionly.kpxe' : null, ...o });
const dora = (o: Partial<DhcpMessage> = {}, t = 0) => ['DISCOVER', 'OFFER', 'REQUEST', 'ACK'].map((x, i) => msg(x, t + i, o));
const ipxe = { userClass: 'iPXE', bootfile: 'http://192.168.100.1/boot.ipxe' };
const get = (uri: string, status = 200, o: Partial<HttpFetch> = {}): HttpFetch => ({ start: 10, end: 20, ip: '192.168.100.5', method: 'GET', uri, status, bytes: 100, length: 100, complete: true, userAgent: 'iPXE', ...o });
const sent = (file: string): TftpTransfer => ({ at: 5, ip: '192.168.100.5', file, ok: true, error: null });
const ms = (...kinds: Milestone['kind'][]): Milestone[] => kinds.map((kind, i) => ({ kind, at: i, after: i, offset: i, text: kind === 'panic' ? 'Kernel panic - not syncing: VFS: Unable to mount root fs' : kind }));
const fetched = [get('/boot.ipxe'), get('/ipxe/52%3A54%3A00%3Aaa%3A00%3A01'), get('/artifacts/vmlinuz'), get('/artifacts/initrd.img')];
const facts = (o: Partial<BootFacts> & { dhcp?: DhcpMessage[] }): BootFacts => ({ mac: MAC, rounds: dhcpRounds(o.dhcp ?? []), tftp: [], http: [], milestones: [],
  kernel: 'vmlinuz', initrd: 'initrd.img', running: false, idleMs: 0, ...o });

describe('diagnose: the stage a boot stopped in and the likely cause', () => {
  it.each<[string, Partial<BootFacts> & { dhcp?: DhcpMessage[] }, string | null, RegExp]>([
    ['reached its marker', { dhcp: dora(ipxe), http: fetched, milestones: ms('kernel', 'init', 'ready') }, null, /ready marker/],
    ['no DHCP at all', {}, 'firmware', /no DHCP DISCOVER from 52:54:00:aa:00:01 reached dnsmasq/],
    ['firmware gave up', { milestones: ms('no-boot-device') }, 'firmware', /never asked for DHCP/],
    ['DISCOVER never answered', { dhcp: [msg('DISCOVER', 0, { note: 'no address available' })] }, 'dhcp', /DHCP DISCOVER never answered \(dnsmasq: no address available\): no reservation/],
    ['offer never requested', { dhcp: [msg('DISCOVER', 0), msg('OFFER', 1)] }, 'dhcp', /never sent a REQUEST/],
    ['NAK', { dhcp: [msg('REQUEST', 0), msg('NAK', 1, { note: 'wrong address' })] }, 'dhcp', /DHCPNAK: wrong address/],
    ['lease given, NBP never fetched', { dhcp: dora() }, 'nbp', /lease given, boot file undionly.kpxe never fetched/],
    ['NBP not on TFTP', { dhcp: dora(), tftp: [{ at: 5, ip: '192.168.100.5', file: '/pxe/tftp/undionly.kpxe', ok: false, error: 'not found' }] }, 'nbp', /TFTP not found/],
    ['NBP fetched, no iPXE script', { dhcp: dora(), tftp: [sent('/pxe/tftp/undionly.kpxe')] }, 'dhcp-ipxe', /NBP fetched, no iPXE script request/],
    ['iPXE lease, no script', { dhcp: dora(ipxe) }, 'script', /lease given, boot file http:\/\/192.168.100.1\/boot.ipxe never fetched/],
    ['script only, no kernel', { dhcp: dora(ipxe), http: fetched.slice(0, 2) }, 'kernel-fetch', /script fetched, no kernel requested/],
    ['kernel 404', { dhcp: dora(ipxe), http: [...fetched.slice(0, 2), get('/artifacts/vmlinuz', 404)] }, 'kernel-fetch', /^kernel 404: \/artifacts\/vmlinuz/],
    ['initrd 404', { dhcp: dora(ipxe), http: [...fetched.slice(0, 3), get('/artifacts/initrd.img', 404)] }, 'initrd-fetch', /^initrd 404/],
    ['kernel cut short', { dhcp: dora(ipxe), http: [...fetched.slice(0, 2), get('/artifacts/vmlinuz', 200, { bytes: 10, complete: false })] }, 'kernel-fetch', /interrupted after 10 of 100 bytes/],
    ['no console output', { dhcp: dora(ipxe), http: fetched }, 'kernel-start', /kernel fetched, no console output: check console=/],
    ['kernel, no init', { dhcp: dora(ipxe), http: fetched, milestones: ms('kernel') }, 'kernel', /init never ran/],
    ['panic', { dhcp: dora(ipxe), http: fetched, milestones: ms('kernel', 'panic') }, 'kernel', /kernel panic: VFS: Unable to mount root fs/],
    ['init, no marker', { dhcp: dora(ipxe), http: fetched, milestones: ms('kernel', 'init') }, 'userspace', /no ready marker/],
  ])('%s', (_name, f, stage, cause) => {
    const d = diagnose(facts(f));
    expect(d.stage).toBe(stage);
    expect(d.cause).toMatch(cause);
    expect(d.ok).toBe(stage === null);
  });

  it('a running boot with a recent event is in progress, not failed; past STUCK_AFTER_MS it is stuck', () => {
    const going = diagnose(facts({ dhcp: dora(ipxe), http: fetched, running: true, idleMs: 2000 }));
    expect(going).toMatchObject({ ok: false, inProgress: true, stage: 'kernel-start', cause: 'in progress: kernel-start' });
    expect(diagnose(facts({ dhcp: dora(ipxe), http: fetched, running: true, idleMs: 120_000 }))).toMatchObject({ inProgress: false, cause: expect.stringMatching(/check console=/) });
    // a 404 is a failure even while the VM still runs
    expect(diagnose(facts({ dhcp: dora(ipxe), http: [get('/artifacts/vmlinuz', 404)], running: true, idleMs: 10 }))).toMatchObject({ inProgress: false, stage: 'kernel-fetch' });
  });
});

describe('diagnose: UEFI HTTP Boot (the NBP over HTTP)', () => {
  const http = { vendorClass: 'HTTPClient:Arch:00016:UNDI:003001', bootfile: 'http://192.168.100.1/nbp/snponly.efi' };
  it.each<[string, Partial<BootFacts> & { dhcp?: DhcpMessage[] }, string, RegExp]>([
    ['never fetched', { dhcp: dora(http) }, 'nbp', /lease given, boot file http:\/\/192.168.100.1\/nbp\/snponly.efi never fetched/],
    ['NBP 404', { dhcp: dora(http), http: [get('/nbp/snponly.efi', 404)] }, 'nbp', /boot file \/nbp\/snponly.efi: HTTP 404/],
    ['NBP fetched, iPXE never asked', { dhcp: dora(http), http: [get('/nbp/snponly.efi')] }, 'dhcp-ipxe', /NBP fetched, no iPXE script request/],
  ])('%s', (_n, f, stage, cause) => {
    const d = diagnose(facts(f));
    expect([d.stage, d.cause]).toEqual([stage, expect.stringMatching(cause)]);
  });
});

describe('diagnose: a kernel or disk boot (no network stages)', () => {
  it.each<[Milestone['kind'][], string | null, RegExp]>([
    [[], 'kernel-start', /no kernel output on the console: check console=/],
    [['kernel'], 'kernel', /init never ran/],
    [['kernel', 'init', 'ready'], null, /ready marker/],
  ])('%j', (kinds, stage, cause) => {
    const d = diagnose(facts({ network: false, milestones: ms(...kinds) }));
    expect([d.stage, d.cause]).toEqual([stage, expect.stringMatching(cause)]);
  });
});
