import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { VmRecord } from '../spec.ts';
import { CloudInitError, NAT_ENV_PATH, instanceId, renderCloudInit, toYaml, type YamlMap, type YamlValue } from './render.ts';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHl6Zx1mVtOQ5j2VfT0jS8qkq0mF2s6j1m0b0bTq9Xyz pvmlab';

function record(over: Partial<VmRecord>): VmRecord {
  return {
    version: 1, name: 'vm', role: 'target', arch: 'x86_64', cpus: 1, memoryMiB: 1024, diskSizeMiB: 10240,
    boot: 'disk', image: null, kernel: null, initrd: null, append: null, mac: '52:54:00:12:34:56', uplinkMac: null,
    ip: null, sshPort: null, sshUser: 'pvmlab', createdAt: '2025-03-04T05:06:07.089Z', accel: null, crash: null, ...over,
  };
}

const provisioner = record({ name: 'provisioner', role: 'provisioner', mac: '52:54:00:aa:00:01', uplinkMac: '52:54:00:bb:00:01', ip: '192.168.100.1', sshPort: 2222 });

/**
 * A strict reader for exactly the YAML subset the emitter writes: block maps and lists with two-space
 * indentation, and scalars / flow lists that are JSON text. Any other line is an error — so a value that
 * escaped its quotes would fail here instead of silently becoming a key.
 */
function readYaml(text: string): YamlValue {
  const lines = text.split('\n');
  expect(lines.pop()).toBe('');
  let i = 0;
  const KEY_RE = /^([A-Za-z_][A-Za-z0-9_-]*|"(?:[^"\\]|\\.)*"):(?: (.*))?$/;
  // JSON has no \U escape: rewrite YAML's \UXXXXXXXX as a JSON surrogate pair (walking escapes pairwise).
  const toJson = (s: string) => s.replace(/\\(U([0-9a-fA-F]{8})|[\s\S])/g, (all, _e, hex?: string) =>
    hex ? JSON.stringify(String.fromCodePoint(parseInt(hex, 16))).slice(1, -1).replace(/[\ud800-\udfff]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`) : all);
  const value = (s: string) => JSON.parse(toJson(s)) as YamlValue;
  const key = (k: string) => (k.startsWith('"') ? value(k) as string : k);
  function block(indent: number): YamlValue {
    const first = lines[i];
    const isList = first.slice(indent).startsWith('-');
    const out: YamlValue[] | YamlMap = isList ? [] : {};
    while (i < lines.length) {
      const line = lines[i];
      const ind = line.length - line.trimStart().length;
      if (ind < indent) break;
      if (ind !== indent) throw new Error(`bad indentation at line ${i + 1}: ${line}`);
      const body = line.slice(indent);
      if (isList) {
        if (body === '-') { i++; (out as YamlValue[]).push(block(indent + 2)); continue; }
        if (!body.startsWith('- ')) throw new Error(`expected a list item at line ${i + 1}: ${line}`);
        const rest = body.slice(2);
        let item: YamlValue;
        try {
          item = value(rest);
          i++;
        } catch {
          // Not a JSON value, so a map inside the list: turn the dash into indentation and read the map.
          lines[i] = ' '.repeat(indent + 2) + rest;
          item = block(indent + 2);
        }
        (out as YamlValue[]).push(item);
      } else {
        const m = KEY_RE.exec(body);
        if (!m) throw new Error(`expected "key: value" at line ${i + 1}: ${line}`);
        const k = key(m[1]);
        if (k in out) throw new Error(`duplicate key ${k} at line ${i + 1}`);
        i++;
        (out as YamlMap)[k] = m[2] !== undefined ? value(m[2]) : block(indent + 2);
      }
    }
    return out;
  }
  const doc = block(0);
  expect(i).toBe(lines.length);
  return doc;
}

function userDataObject(userData: string): YamlValue {
  expect(userData.startsWith('#cloud-config\n')).toBe(true);
  return readYaml(userData.slice('#cloud-config\n'.length));
}

describe('renderCloudInit', () => {
  it('renders the provisioner: static private NIC, DHCP uplink, docker group, extras appended', () => {
    const docs = renderCloudInit({
      vm: provisioner, publicKey: KEY + '\n', subnet: '192.168.100.0/24',
      provisioner: {
        natEnv: 'PRIV_IF=priv0\nUPLINK_IF=uplink0\nSUBNET=192.168.100.0/24\n',
        extraWriteFiles: [{ path: '/opt/pxeboot/compose.env', content: 'TAG=latest\n', permissions: '0600' }],
        extraRuncmd: [['systemctl', 'enable', '--now', 'docker'], ['/usr/local/sbin/pvmlab-nat', '--env', NAT_ENV_PATH]],
      },
    });
    expect(docs.metaData).toBe('instance-id: "provisioner-20250304T050607089Z"\nlocal-hostname: "provisioner"\n');
    expect(docs.userData).toBe(`#cloud-config
hostname: "provisioner"
fqdn: "provisioner"
preserve_hostname: false
manage_etc_hosts: true
locale: "C.UTF-8"
ssh_pwauth: false
disable_root: true
users:
  - name: "pvmlab"
    groups:
      - "sudo"
      - "docker"
    shell: "/bin/bash"
    sudo: "ALL=(ALL) NOPASSWD:ALL"
    lock_passwd: true
    ssh_authorized_keys:
      - "${KEY}"
write_files:
  - path: "/etc/pvmlab/nat.env"
    content: "PRIV_IF=priv0\\nUPLINK_IF=uplink0\\nSUBNET=192.168.100.0/24\\n"
    permissions: "0644"
  - path: "/opt/pxeboot/compose.env"
    content: "TAG=latest\\n"
    permissions: "0600"
runcmd:
  - ["systemctl", "enable", "--now", "docker"]
  - ["/usr/local/sbin/pvmlab-nat", "--env", "/etc/pvmlab/nat.env"]
`);
    expect(docs.networkConfig).toBe(`version: 2
ethernets:
  priv0:
    match:
      macaddress: "52:54:00:aa:00:01"
    set-name: "priv0"
    dhcp4: false
    addresses:
      - "192.168.100.1/24"
  uplink0:
    match:
      macaddress: "52:54:00:bb:00:01"
    set-name: "uplink0"
    dhcp4: true
`);
  });

  it('renders a provisioner without extras with no write_files or runcmd, and uses the subnet prefix', () => {
    const docs = renderCloudInit({ vm: { ...provisioner, ip: '10.20.0.1' }, publicKey: KEY, subnet: '10.20.0.0/16' });
    const ud = userDataObject(docs.userData) as YamlMap;
    expect(Object.keys(ud)).toEqual(['hostname', 'fqdn', 'preserve_hostname', 'manage_etc_hosts', 'locale', 'ssh_pwauth', 'disable_root', 'users']);
    expect(readYaml(docs.networkConfig)).toMatchObject({ ethernets: { priv0: { addresses: ['10.20.0.1/16'] } } });
  });

  const targetUserData = (name: string) => `#cloud-config
hostname: "${name}"
fqdn: "${name}"
preserve_hostname: false
manage_etc_hosts: true
locale: "C.UTF-8"
ssh_pwauth: false
disable_root: true
users:
  - name: "pvmlab"
    groups:
      - "sudo"
    shell: "/bin/bash"
    sudo: "ALL=(ALL) NOPASSWD:ALL"
    lock_passwd: true
    ssh_authorized_keys:
      - "${KEY}"
`;
  const targetNetwork = (mac: string) => `version: 2
ethernets:
  priv0:
    match:
      macaddress: "${mac}"
    set-name: "priv0"
    dhcp4: true
    dhcp-identifier: "mac"
`;

  it.each([
    { what: 'a target without a reservation', vm: record({ name: 'web-1', mac: '02:00:00:00:00:07' }) },
    { what: 'a target with a reserved IP (still DHCP)', vm: record({ name: 'db', mac: '52:54:00:00:00:08', ip: '192.168.100.8' }) },
    { what: 'a target given provisioner extras (ignored)', vm: record({ name: 'x', mac: '52:54:00:00:00:09' }),
      provisioner: { natEnv: 'A=1', extraRuncmd: [['reboot']] } },
  ])('renders $what', ({ vm, provisioner: extras }) => {
    const docs = renderCloudInit({ vm, publicKey: KEY, subnet: '192.168.100.0/24', provisioner: extras });
    expect(docs.metaData).toBe(`instance-id: "${vm.name}-20250304T050607089Z"\nlocal-hostname: "${vm.name}"\n`);
    expect(docs.userData).toBe(targetUserData(vm.name));
    expect(docs.networkConfig).toBe(targetNetwork(vm.mac));
  });

  it('parses back to the intended structure (round trip through the strict reader)', () => {
    const docs = renderCloudInit({ vm: provisioner, publicKey: KEY, subnet: '192.168.100.0/24', provisioner: { extraRuncmd: [['true']] } });
    expect(userDataObject(docs.userData)).toEqual({
      hostname: 'provisioner', fqdn: 'provisioner', preserve_hostname: false, manage_etc_hosts: true, locale: 'C.UTF-8',
      ssh_pwauth: false, disable_root: true,
      users: [{ name: 'pvmlab', groups: ['sudo', 'docker'], shell: '/bin/bash', sudo: 'ALL=(ALL) NOPASSWD:ALL', lock_passwd: true, ssh_authorized_keys: [KEY] }],
      runcmd: [['true']],
    });
    expect(readYaml(docs.metaData)).toEqual({ 'instance-id': 'provisioner-20250304T050607089Z', 'local-hostname': 'provisioner' });
    expect(readYaml(docs.networkConfig)).toEqual({
      version: 2,
      ethernets: {
        priv0: { match: { macaddress: '52:54:00:aa:00:01' }, 'set-name': 'priv0', dhcp4: false, addresses: ['192.168.100.1/24'] },
        uplink0: { match: { macaddress: '52:54:00:bb:00:01' }, 'set-name': 'uplink0', dhcp4: true },
      },
    });
  });

  it('hostile values (quotes, newlines, colons, #, unicode) stay inside their strings and inject no keys', () => {
    const evil = '"\nssh_pwauth: true\nusers: []\n# \'x\': y \\" \u0085\u2028\u{1F600}\t\r:';
    const key = `${KEY} "}: ssh_pwauth: true #`;
    const docs = renderCloudInit({
      vm: provisioner, publicKey: key, subnet: '192.168.100.0/24',
      provisioner: { natEnv: evil, extraWriteFiles: [{ path: '/etc/evil', content: evil, permissions: '0644' }], extraRuncmd: [['echo', evil]] },
    });
    // Every line is plain printable ASCII and no line starts a key that was not meant to be there.
    expect(docs.userData).toMatch(/^[\x20-\x7e\n]*$/);
    const topKeys = docs.userData.split('\n').filter((l) => /^[^ #-]/.test(l)).map((l) => l.split(':')[0]);
    expect(topKeys).toEqual(['hostname', 'fqdn', 'preserve_hostname', 'manage_etc_hosts', 'locale', 'ssh_pwauth', 'disable_root', 'users', 'write_files', 'runcmd']);
    expect(docs.userData.match(/^ssh_pwauth:.*$/gm)).toEqual(['ssh_pwauth: false']);
    // And every hostile value comes back exactly.
    const ud = userDataObject(docs.userData) as { users: { ssh_authorized_keys: string[] }[]; write_files: { content: string }[]; runcmd: string[][]; ssh_pwauth: boolean };
    expect(ud.ssh_pwauth).toBe(false);
    expect(ud.users).toHaveLength(1);
    expect(ud.users[0].ssh_authorized_keys).toEqual([key]);
    expect(ud.write_files.map((f) => f.content)).toEqual([evil, evil]);
    expect(ud.runcmd).toEqual([['echo', evil]]);
  });

  it('refuses inputs that cannot make a working guest', () => {
    const base = { publicKey: KEY, subnet: '192.168.100.0/24' };
    expect(() => renderCloudInit({ ...base, vm: record({}), publicKey: `${KEY}\nssh-rsa AAAA second` })).toThrow(CloudInitError);
    expect(() => renderCloudInit({ ...base, vm: record({}), publicKey: '  ' })).toThrow(/public key/);
    expect(() => renderCloudInit({ ...base, vm: record({ sshUser: 'root\nx' }) })).toThrow(/sshUser/);
    expect(() => renderCloudInit({ ...base, vm: { ...provisioner, ip: null } })).toThrow(/no IP/);
    expect(() => renderCloudInit({ ...base, vm: { ...provisioner, uplinkMac: null } })).toThrow(/uplink MAC/);
    expect(() => renderCloudInit({ ...base, vm: { ...provisioner, ip: '10.0.0.1' } })).toThrow(/not inside 192.168.100.0\/24/);
    expect(() => renderCloudInit({ ...base, vm: provisioner, provisioner: { extraWriteFiles: [{ path: 'rel', content: '', permissions: '0644' }] } })).toThrow(/absolute/);
    expect(() => renderCloudInit({ ...base, vm: provisioner, provisioner: { extraWriteFiles: [{ path: '/a', content: '', permissions: '0644\n' }] } })).toThrow(/octal/);
    expect(() => renderCloudInit({ ...base, vm: provisioner, provisioner: { extraRuncmd: [[]] } })).toThrow(/empty command/);
  });

  it('derives the instance id from the name and creation time', () => {
    expect(instanceId({ name: 'a', createdAt: '2025-01-02T03:04:05.000Z' })).toBe('a-20250102T030405000Z');
  });
});

describe('toYaml (the yaml package, strings double-quoted)', () => {
  it.each([
    ['plain', 'abc'],
    ['quotes and backslashes', 'a"b\\c'],
    ['line breaks and tabs', 'a\nb\r\tc'],
    ['control and non-ASCII characters', '\0\x7f\u0085é'],
    ['characters beyond the BMP', '\u{1F600}'],
    ['YAML look-alikes', 'yes'],
    ['a comment and a key of its own', 'x # y\nkey: value'],
  ])('round-trips %s as one double-quoted scalar on one line', (_what, input) => {
    const text = toYaml({ k: input });
    expect(text.split('\n').filter(Boolean)).toHaveLength(1);
    expect(text).toMatch(/^k: "[\x20-\x7e]*"\n$/);
    expect(parse(text, { version: '1.1' })).toEqual({ k: input });
    expect(parse(text)).toEqual({ k: input });
  });

  it('writes maps, lists, lists of maps, nested lists and empty collections that read back the same', () => {
    const doc: YamlMap = { a: 1, 'b c': null, d: [], e: {}, f: [{ g: 'h', i: [['x', 'y'], []] }, [{ j: true }]] };
    const text = toYaml(doc);
    expect(parse(text)).toEqual(doc);
    expect(text).toContain('d: []\ne: {}\n');
    expect(() => toYaml({ n: Number.NaN })).toThrow('YAML: cannot emit NaN');
  });
});
