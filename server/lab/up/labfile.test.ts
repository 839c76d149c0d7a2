import { describe, expect, it } from 'vitest';
import { LabFileError, parseLabFile } from './labfile.ts';

const lab = { subnet: '192.168.100.0/24', dhcpRange: ['192.168.100.100', '192.168.100.200'] as [string, string], hostArch: 'x86_64' as const };
const SHA = 'a'.repeat(64);
const parse = (text: string) => parseLabFile(text, 'lab.yaml', lab);
const errors = (text: string): string[] => {
  try { parse(text); } catch (e) { if (e instanceof LabFileError) return e.message.split('\n'); throw e; }
  throw new Error('expected a LabFileError');
};

const good = `version: 1
provisioner:
  name: prov
  image: offline
targets:
  - name: target1
  - name: inst
    mac: 52:54:00:aa:bb:cc
    ip: 192.168.100.20
    memory: 1G
    profile: debian
reservations:
  - mac: 52:54:00:11:22:33
    ip: 192.168.100.30
    hostname: metal1
profiles:
  debian:
    kernel: linux
    initrd: initrd.gz
    cmdline: auto=true priority=critical
artifacts:
  - name: linux
    path: /srv/linux
    sha256: ${SHA}
  - name: initrd.gz
    sha256: ${SHA}
`;

describe('lab.yaml', () => {
  it('a good file → the desired lab (defaults filled in: host arch, live profile, sizes)', () => {
    const { desired } = parse(good);
    expect(desired).toEqual({
      provisioner: { name: 'prov', arch: 'x86_64', image: 'offline', cpus: 2, memory: '2048M' },
      targets: [
        { name: 'target1', arch: 'x86_64', boot: 'pxe', profile: 'live', memory: '512M', sshUser: 'root' },
        { name: 'inst', arch: 'x86_64', boot: 'pxe', profile: { kind: 'kernel', kernel: 'linux', initrd: 'initrd.gz', cmdline: 'auto=true priority=critical' },
          memory: '1024M', sshUser: 'root', ip: '192.168.100.20', mac: '52:54:00:aa:bb:cc' },
      ],
      reservations: [{ mac: '52:54:00:11:22:33', ip: '192.168.100.30', hostname: 'metal1', profile: null }],
      artifacts: [{ name: 'linux', path: '/srv/linux', sha256: SHA }, { name: 'initrd.gz', sha256: SHA }],
    });
  });

  it('catalogue entries are profiles too', () => {
    const { desired } = parse('targets:\n  - name: inst\n    profile: debian-12-installer\n  - name: xyz\n    profile: netboot.xyz\n');
    expect(desired.targets.map((t) => t.profile)).toEqual([{ catalogue: 'debian-12-installer' }, { catalogue: 'netboot.xyz' }]);
  });

  it('an empty file is the default provisioner and no targets', () => {
    expect(parse('').desired.targets).toEqual([]);
    expect(parse('').desired.provisioner.name).toBe('prov');
  });

  it.each<[string, string, string[]]>([
    ['YAML syntax', 'targets: [\n  - name: a\n', ['lab.yaml:2:3: ']],
    ['wrong type', 'provisioner:\n  cpus: two\n', ['lab.yaml:2:9: provisioner.cpus: Invalid input: expected number, received string']],
    ['unknown key, with its line', 'targets:\n  - name: t1\n    colour: blue\n', ["lab.yaml:3:5: targets[0].colour: unknown key 'colour': remove it or check its spelling"]],
    ['unknown top-level key', 'provisoner: {}\n', ["lab.yaml:1:1: provisoner: unknown key 'provisoner'"]],
    ['bad name', 'targets:\n  - name: Target_1\n', ['lab.yaml:2:11: targets[0].name: use 1–32 characters']],
    ['missing name', 'targets:\n  - ip: 192.168.100.5\n', ['lab.yaml:2:5: targets[0].name: missing: this field is required']],
    ['duplicate names', 'targets:\n  - name: t1\n  - name: t1\n', ['lab.yaml:3:11: targets[1].name: name t1 is already used by targets[0]: give each VM its own name']],
    ['a target named like the provisioner', 'targets:\n  - name: prov\n', ['lab.yaml:2:11: targets[0].name: name prov is already used by provisioner']],
    ['duplicate MACs', 'targets:\n  - name: a\n    mac: 52:54:00:00:00:01\nreservations:\n  - mac: 52:54:00:00:00:01\n    ip: 192.168.100.9\n    hostname: b\n',
      ['lab.yaml:5:10: reservations[0].mac: MAC 52:54:00:00:00:01 is already used by targets[0]']],
    ['duplicate IPs', 'targets:\n  - name: a\n    ip: 192.168.100.5\n  - name: b\n    ip: 192.168.100.5\n', ['lab.yaml:5:9: targets[1].ip: IP 192.168.100.5 is already used by targets[0]']],
    ['IP outside the subnet', 'targets:\n  - name: a\n    ip: 10.0.0.5\n', ["lab.yaml:3:9: targets[0].ip: 10.0.0.5 is outside the lab's network 192.168.100.0/24: use a host address of it, e.g. 192.168.100.10"]],
    ['IP in the DHCP range', 'targets:\n  - name: a\n    ip: 192.168.100.150\n', ['lab.yaml:3:9: targets[0].ip: 192.168.100.150 is inside the DHCP range 192.168.100.100–192.168.100.200']],
    ['IP outside a subnet the file sets', 'network:\n  subnet: 10.9.0.0/24\ntargets:\n  - name: a\n    ip: 192.168.100.5\n', ["lab.yaml:5:9: targets[0].ip: 192.168.100.5 is outside the lab's network 10.9.0.0/24"]],
    ['a profile naming a missing artifact', 'profiles:\n  p:\n    kernel: nothere\n', ["lab.yaml:3:13: profiles.p.kernel: artifact 'nothere' is not in artifacts: add it there (name, path, sha256)"]],
    ['a target naming a missing profile', 'targets:\n  - name: a\n    profile: nope\n', ["lab.yaml:3:14: targets[0].profile: no profile named 'nope': use live, none, debian-12-installer, ubuntu-24.04-live-server, netboot.xyz or one of profiles: (none defined)"]],
    ['bad sha256', `artifacts:\n  - name: x\n    sha256: abc\n`, ['lab.yaml:3:13: artifacts[0].sha256: use the 64 lowercase hex digits of sha256sum']],
    ['bad MAC', 'targets:\n  - name: a\n    mac: 01:00:5e:00:00:01\n', ['lab.yaml:3:10: targets[0].mac: must be a unicast MAC']],
  ])('%s', (_n, text, expected) => {
    const got = errors(text);
    for (const [i, e] of expected.entries()) expect(got[i]).toContain(e);
  });

  it('every issue is reported, not only the first', () => {
    expect(errors('targets:\n  - name: a\n    ip: 10.0.0.1\n  - name: a\n')).toHaveLength(2);
  });

  it('schema errors and the cross-checks that can still run, at once, in file order', () => {
    const text = [
      'provisioner:',
      '  cpus: two',                        // 2: schema
      'targets:',
      '  - name: a',
      '    ip: 192.168.100.5',
      '    colour: blue',                   // 6: unknown key (the target fails its schema)…
      '  - name: b',
      '    ip: 192.168.100.5',              // 8: …and still counts for the duplicate IP
      '    mac: nope',                      // 9: schema; this target's other fields are still checked
      '    profile: missing',               // 10: cross-check on a target with a schema error
      'reservations:',
      '  - { mac: 52:54:00:00:00:09, ip: 10.1.1.1, hostname: r1, colour: red }',  // 12: unknown key + outside the subnet
    ].join('\n');
    expect(errors(text)).toEqual([
      'lab.yaml:2:9: provisioner.cpus: Invalid input: expected number, received string',
      "lab.yaml:6:5: targets[0].colour: unknown key 'colour': remove it or check its spelling (see the lab file reference in README.md)",
      'lab.yaml:8:9: targets[1].ip: IP 192.168.100.5 is already used by targets[0]: give each machine its own address',
      'lab.yaml:9:10: targets[1].mac: use six hex pairs, e.g. 52:54:00:12:34:56',
      'lab.yaml:9:10: targets[1].mac: must be locally administered (the first byte has bit 0x02 set, e.g. 02:… or 52:54:00:…)',
      "lab.yaml:10:14: targets[1].profile: no profile named 'missing': use live, none, debian-12-installer, ubuntu-24.04-live-server, netboot.xyz or one of profiles: (none defined)",
      "lab.yaml:12:35: reservations[0].ip: 10.1.1.1 is outside the lab's network 192.168.100.0/24: use a host address of it, e.g. 192.168.100.10",
      "lab.yaml:12:59: reservations[0].colour: unknown key 'colour': remove it or check its spelling (see the lab file reference in README.md)",
    ]);
  });

  it('profiles use the API\'s cmdline schema, and each target\'s loader must carry the cmdline (before any VM exists)', () => {
    const file = (cmdline: string, arch = 'x86_64') => `artifacts:\n  - { name: k, sha256: ${SHA} }\nprofiles:\n  p:\n    kernel: k\n    cmdline: "${cmdline}"\ntargets:\n  - name: t\n    arch: ${arch}\n    profile: p\n`;
    expect(errors(file('a  b'))).toEqual(["lab.yaml:6:14: profiles.p.cmdline: separate words with exactly one space: iPXE and GRUB join the kernel's words with one space, so other spacing would not reach the kernel as written"]);
    expect(errors(file('x=${net0/ip}'))).toEqual(["lab.yaml:6:14: profiles.p.cmdline: targets[0] boots it (x86_64): iPXE replaces ${…} with a setting's value and has no escape for it, so 'x=${net0/ip}' would not reach the kernel as written"]);
    expect(errors(file("a='b'", 'aarch64'))[0]).toMatch(/^lab\.yaml:6:14: profiles\.p\.cmdline: targets\[0\] boots it \(aarch64\): GRUB's linux command puts a backslash before/);
    expect(parse(file("a='b'")).desired.targets[0].profile).toEqual({ kind: 'kernel', kernel: 'k', cmdline: "a='b'" }); // iPXE carries quotes
    expect(parse(file(' trimmed ')).desired.targets[0].profile).toMatchObject({ cmdline: 'trimmed' });
  });

  it('a catalogue entry on an arch it has no build for is refused in the file', () => {
    expect(errors('targets:\n  - name: t\n    arch: aarch64\n    profile: netboot.xyz\n')).toEqual(["lab.yaml:4:14: targets[0].profile: 'netboot.xyz' has no aarch64 build: use it on x86_64 targets"]);
    expect(parse('targets:\n  - name: t\n    profile: ubuntu-24.04-live-server\n    memory: 6G\n').desired.targets[0]).toMatchObject({ profile: { catalogue: 'ubuntu-24.04-live-server' }, memory: '6144M' });
  });
});
