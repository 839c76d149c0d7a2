import { describe, expect, it } from 'vitest';
import { changes, planDown, type Action, planUp, sameProfile, type CurrentLab, type CurrentVm, type PlanInput, type ResolvedTarget } from './plan.ts';
import type { BootProfile } from '../provisioner/pxe.ts';

const live: BootProfile = { kind: 'kernel', kernel: 'k', initrd: 'i', cmdline: 'console=ttyS0 pvmlab.hostname=target1' };
const t1: ResolvedTarget = { name: 'target1', arch: 'x86_64', boot: 'pxe', profile: live, memory: '512M', sshUser: 'root' };
const art = [{ name: 'k', path: '/c/k', sha256: 'a'.repeat(64) }, { name: 'i', path: '/c/i', sha256: 'b'.repeat(64) }];
const empty: CurrentLab = { vms: [], reservations: [], stackHealthy: null, artifacts: null };
const prov: CurrentVm = { name: 'prov', role: 'provisioner', arch: 'x86_64', boot: 'kernel', mac: '52:54:00:00:00:01', status: 'running' };
const tvm: CurrentVm = { name: 'target1', role: 'target', arch: 'x86_64', boot: 'pxe', mac: '52:54:00:00:00:02', status: 'running' };
const upLab: CurrentLab = {
  vms: [prov, tvm], stackHealthy: true, artifacts: { k: 'a'.repeat(64), i: 'b'.repeat(64) },
  reservations: [{ mac: tvm.mac, ip: '192.168.100.2', hostname: 'target1', profile: { ...live } }],
};
const input = (current: CurrentLab, extra: Partial<PlanInput> = {}): PlanInput =>
  ({ provisioner: { name: 'prov', arch: 'x86_64', image: 'offline', cpus: 2, memory: '2G' }, targets: [t1], artifacts: art, current, ...extra });
const subject = (a: Action) => ('name' in a ? a.name : 'target' in a ? a.target.name : 'artifact' in a ? a.artifact.name : 'reservation' in a ? a.reservation.mac : 'arch' in a ? a.arch : a.mac);
const kinds = (i: PlanInput) => planUp(i).actions.map((a) => `${a.kind} ${subject(a)}`);

describe('planUp', () => {
  it.each<[string, PlanInput, string[]]>([
    ['empty home: everything, in order', input(empty), ['create-provisioner prov', 'start prov', 'stack prov', 'upload k', 'upload i', 'create-target target1', 'set-profile target1', 'start target1', 'wait-target target1']],
    ['the lab is up: only the check', input(upLab), ['wait-target target1']],
    ['after down: start both, stack, artifacts unknown → upload', input({ ...upLab, vms: [{ ...prov, status: 'stopped' }, { ...tvm, status: 'stopped' }], stackHealthy: null, artifacts: null }),
      ['start prov', 'stack prov', 'upload k', 'upload i', 'start target1', 'wait-target target1']],
    ['stack down on a running provisioner', input({ ...upLab, stackHealthy: false }), ['stack prov', 'wait-target target1']],
    ['a changed artifact is uploaded again', input({ ...upLab, artifacts: { k: 'c'.repeat(64), i: 'b'.repeat(64) } }), ['upload k', 'wait-target target1']],
    ['a changed profile on a running target: set it, restart', input({ ...upLab, reservations: [{ ...upLab.reservations[0], profile: { kind: 'exit' } }] }),
      ['set-profile target1', 'restart target1', 'wait-target target1']],
    ['a target with no profile is created, not started', input(empty, { targets: [{ ...t1, profile: null }], artifacts: [] }), ['create-provisioner prov', 'start prov', 'stack prov', 'create-target target1']],
    ['no apt on the host: the live image is built inside the provisioner, after its stack, before the targets', input(empty, { artifacts: [], liveBuilds: ['x86_64'] }),
      ['create-provisioner prov', 'start prov', 'stack prov', 'build-live x86_64', 'create-target target1', 'set-profile target1', 'start target1', 'wait-target target1']],
    ['extra VM with prune: removed', input({ ...upLab, vms: [...upLab.vms, { ...tvm, name: 'old', mac: '52:54:00:00:00:09' }] }, { prune: true }), ['wait-target target1', 'remove old']],
  ])('%s', (_n, i, expected) => { expect(kinds(i)).toEqual(expected); });

  it('a re-run changes nothing', () => {
    const p = planUp(input(upLab));
    expect(changes(p)).toEqual([]);
    expect(p.kept).toEqual(['prov: exists and runs', 'prov: pxeboot stack healthy', 'artifact k: present (sha256 matches)', 'artifact i: present (sha256 matches)', 'target1: exists, runs, profile unchanged']);
  });

  it('extra VMs are left alone without --prune, and said so', () => {
    const p = planUp(input({ ...upLab, vms: [...upLab.vms, { ...tvm, name: 'old', mac: '52:54:00:00:00:09' }] }));
    expect(p.kept).toContain('old: not asked for, left alone (apply --prune removes it)');
    expect(p.actions.some((a) => a.kind === 'remove')).toBe(false);
  });

  it('an artifact the user may replace (ifAbsent) is kept whatever its sha256; absent, it is uploaded', () => {
    const seed = { name: 'autoinstall-target1-user-data', path: '/c/u', sha256: 'd'.repeat(64), ifAbsent: true };
    const p = planUp(input({ ...upLab, artifacts: { ...upLab.artifacts, [seed.name]: 'e'.repeat(64) } }, { artifacts: [...art, seed] }));
    expect(p.kept).toContain('artifact autoinstall-target1-user-data: present (kept: yours)');
    expect(changes(p)).toEqual([]);
    expect(kinds(input(upLab, { artifacts: [...art, seed] }))).toEqual(['upload autoinstall-target1-user-data', 'wait-target target1']);
  });

  it('a target with less memory than its catalogue profile needs is told so', () => {
    expect(planUp(input(empty, { targets: [{ ...t1, needsMemoryMiB: 6144 }] })).notes).toEqual(['target1 has 512M of memory; its boot profile needs at least 6144M: give it memory: 6G in the lab file (or vm clean it and make it again)']);
    expect(planUp(input(empty, { targets: [{ ...t1, memory: '6G', needsMemoryMiB: 6144 }] })).notes).toEqual([]);
  });

  it('a target without profile says it boots nothing until it gets one', () => {
    expect(planUp(input(empty, { targets: [{ ...t1, profile: null }] })).notes).toEqual(['target1 has no boot profile: it boots nothing until it gets one (pvmlab pxe profile target1 …)']);
  });

  it.each<[string, CurrentVm[], RegExp]>([
    ['another provisioner', [{ ...prov, name: 'p2' }], /already has a provisioner 'p2'.*pvmlab vm clean p2/],
    ['the provisioner name taken by a target', [{ ...tvm, name: 'prov' }], /'prov' exists but is a target/],
    ['a target name taken by a disk VM', [prov, { ...tvm, boot: 'disk' }], /'target1' exists but is a target with disk boot, not a PXE target/],
  ])('conflict: %s', (_n, vms, re) => {
    expect(planUp(input({ ...empty, vms })).conflicts.join('\n')).toMatch(re);
  });
});

describe('sameProfile', () => {
  it('ignores key order; exit and none are the same; cmdline differences count', () => {
    expect(sameProfile({ kind: 'kernel', kernel: 'k', initrd: 'i', cmdline: 'x' }, { cmdline: 'x', initrd: 'i', kernel: 'k', kind: 'kernel' } as BootProfile)).toBe(true);
    expect(sameProfile({ kind: 'exit' }, null)).toBe(true);
    expect(sameProfile(live, { ...live, cmdline: 'other' })).toBe(false);
  });
});

describe('planDown', () => {
  it('targets first, then the provisioner; stopped ones are left', () => {
    expect(planDown([prov, tvm, { ...tvm, name: 't2', status: 'stopped' }])).toEqual({ stop: ['target1', 'prov'], already: ['t2'] });
  });
});

describe('planUp: firmware', () => {
  it('a target whose firmware differs from the lab file is left as it is, with a note; the same firmware changes nothing', () => {
    const uefiVm: CurrentVm = { ...tvm, firmware: 'uefi', netboot: 'http' };
    const same = planUp(input({ ...upLab, vms: [prov, uefiVm] }, { targets: [{ ...t1, firmware: 'uefi', netboot: 'http' }] }));
    expect(same.notes).toEqual([]);
    expect(changes(same)).toEqual([]);
    const differs = planUp(input(upLab, { targets: [{ ...t1, firmware: 'uefi', netboot: 'http' }] }));
    expect(differs.notes).toEqual(['target1 boots bios/pxe, the lab file says uefi/http: left as it is (pvmlab vm clean target1, then up, makes it again)']);
  });
});
