import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseClockMarks } from './console-clock.ts';
import { parseDnsmasqLog } from './dnsmasq.ts';
import { parseCallHomeLog, parseHttpLog } from './nginx.ts';
import { buildTimeline, type StackLogs } from './recorder.ts';

// Everything below was captured from one real lab (TCG): target1 PXE-booted the live profile over QEMU's iPXE ROM;
// bad1's profile named a kernel that is not on the stack. The provisioner's clock, measured minutes later, was
// 6.5 s behind the host; at boot time it was ~4.7 s behind (its clock drifted under load).
const dir = path.join(import.meta.dirname, 'testdata');
const read = (f: string) => fs.readFileSync(path.join(dir, f));
function boot(name: string, mac: string, ip: string, kernel: string, measured: number) {
  const stack: StackLogs = { dnsmasq: parseDnsmasqLog(read(`${name}.dnsmasq.log`).toString()), http: parseHttpLog(read(`${name}.http.log`).toString()),
    callhome: fs.existsSync(path.join(dir, `${name}.callhome.log`)) ? parseCallHomeLog(read(`${name}.callhome.log`).toString()) : [], offsetMs: measured, uncertaintyMs: 30 };
  return buildTimeline({ vm: name, mac, ip, running: false, kernel, initrd: null }, read(`${name}.console.log`), 0,
    parseClockMarks(read(`${name}.console.times`).toString()), stack, Date.parse('2026-11-29T18:00:00Z'));
}

describe('buildTimeline on captured boots', () => {
  it('a BIOS target through the iPXE ROM: every stage, in order, with non-zero durations; the clock drift corrected from the console', () => {
    const t = boot('bios-ipxe-rom', '52:54:00:d0:86:b6', '192.168.100.2', 'pvmlab-live-x86_64-vmlinuz', -6496);
    expect(t.path).toBe('ipxe-rom');
    expect(t.diagnosis).toMatchObject({ ok: true, stage: null });
    expect(t.stages.map((s) => s.id)).toEqual(['firmware', 'dhcp', 'script', 'kernel-fetch', 'initrd-fetch', 'kernel-start', 'kernel', 'userspace', 'callhome']);
    for (const s of t.stages.filter((x) => x.id !== 'callhome')) expect(s.end - s.start, s.id).toBeGreaterThan(0);
    const main = t.stages.filter((s) => s.id !== 'callhome');
    for (let k = 1; k < main.length; k++) expect(main[k].start, main[k].id).toBeGreaterThanOrEqual(main[k - 1].end);
    expect(t.clock.provisionerOffsetMs).toBeGreaterThan(-4800);
    expect(t.clock.provisionerOffsetMs).toBeLessThan(-4600);
    expect(t.clock.notes.join()).toMatch(/clock drift/);
    expect(t.stages.find((s) => s.id === 'kernel-fetch')?.detail).toMatch(/^pvmlab-live-x86_64-vmlinuz 200, 13\.5 MiB/);
    // causality on one axis: the ACK before iPXE's "ok", each HTTP fetch before its console "ok"
    const ev = (src: string, label: RegExp) => t.events.find((e) => e.source === src && label.test(e.label + e.detail))!.t;
    expect(ev('dhcp', /DHCPACK.*iPXE/)).toBeLessThan(ev('console', /ipxe-net/));
    expect(ev('http', /boot\.ipxe/)).toBeLessThanOrEqual(ev('console', /ipxe-fetch.*boot\.ipxe/));
  });

  it('a profile whose kernel 404s: diagnosed at the kernel download, with the URI', () => {
    const t = boot('kernel-404', '52:54:00:fe:13:91', '192.168.100.3', 'no-such-vmlinuz', -6500);
    expect(t.diagnosis).toMatchObject({ ok: false, inProgress: false, stage: 'kernel-fetch', cause: 'kernel 404: /artifacts/no-such-vmlinuz is not on the stack' });
    expect(t.stages.map((s) => [s.id, s.status])).toEqual([['firmware', 'done'], ['dhcp', 'done'], ['script', 'done'], ['kernel-fetch', 'failed']]);
    expect(t.events.some((e) => e.source === 'http' && e.bad && e.label === 'GET /artifacts/no-such-vmlinuz')).toBe(true);
  });

  it('without the provisioner: the stages from iPXE\'s console lines alone, and a note saying so', () => {
    const t = buildTimeline({ vm: 'x', mac: '52:54:00:d0:86:b6', ip: null, running: false, kernel: null, initrd: null }, read('bios-ipxe-rom.console.log'), 0,
      parseClockMarks(read('bios-ipxe-rom.console.times').toString()), null, 0);
    expect(t.clock.notes).toEqual(['the provisioner is not running: no DHCP, TFTP or HTTP events']);
    expect(t.diagnosis.ok).toBe(true);
    expect(t.stages.map((s) => s.id)).toEqual(['firmware', 'dhcp', 'script', 'kernel-fetch', 'initrd-fetch', 'kernel-start', 'kernel', 'userspace']);
    expect(t.stages.find((s) => s.id === 'kernel-fetch')?.detail).toBe('pvmlab-live-x86_64-vmlinuz (console)');
    const bad = buildTimeline({ vm: 'bad1', mac: '52:54:00:fe:13:91', ip: null, running: false, kernel: 'no-such-vmlinuz', initrd: null }, read('kernel-404.console.log'), 0,
      parseClockMarks(read('kernel-404.console.times').toString()), new Error('ssh: connect refused'), 0);
    expect(bad.clock.notes[0]).toBe('the stack\'s logs could not be read: ssh: connect refused');
    expect(bad.diagnosis).toMatchObject({ ok: false, stage: 'kernel-fetch', cause: expect.stringMatching(/^iPXE could not fetch http:\/\/192\.168\.100\.1\/artifacts\/no-such-vmlinuz: No such file or directory/) });
  });

  it('asks for a boot that is not there', () => {
    expect(() => buildTimeline({ vm: 'x', mac: 'm', ip: null, running: false, kernel: null, initrd: null, boot: 5 }, read('kernel-404.console.log'), 0, [], null, 0))
      .toThrow(/'x' has 1 boot\(s\) in its console log: boot 5 is not one of them/);
  });
});
