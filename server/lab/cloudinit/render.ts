// VM record → the three NoCloud documents (meta-data, user-data, network-config). Pure.
//
// The YAML is produced by a tiny emitter (below) that double-quotes every string and escapes everything
// outside printable ASCII, so no value — a key comment, a file's content, a command — can end a line,
// open a comment or start a key of its own.
import { cidrInfo, inSubnet, type VmRecord } from '../spec.ts';

export interface WriteFile { path: string; content: string; permissions: string }

export interface ProvisionerExtras {
  /** Contents of the NAT environment file read by the provisioner's NAT setup (written to NAT_ENV_PATH). */
  natEnv?: string;
  extraWriteFiles?: WriteFile[];
  /** Each command is an argv array: cloud-init runs it without a shell. */
  extraRuncmd?: string[][];
  /** An IPv6 ULA address/prefix for the private NIC (router advertisements for iPXE), e.g. fd70:766d:6c61::1/64. */
  ulaAddress?: string;
}

export interface CloudInitInput {
  vm: VmRecord;
  /** The lab's ssh public key line (`ssh-ed25519 AAAA… comment`). */
  publicKey: string;
  /** The private network, CIDR form (e.g. 192.168.100.0/24). */
  subnet: string;
  /** Only used when vm.role is 'provisioner'. */
  provisioner?: ProvisionerExtras;
}

export interface CloudInitDocs { metaData: string; userData: string; networkConfig: string }

export const NAT_ENV_PATH = '/etc/pvmlab/nat.env';
export const PRIVATE_IFNAME = 'priv0';
export const UPLINK_IFNAME = 'uplink0';

export class CloudInitError extends Error {}

const SSH_USER_RE = /^[a-z_][a-z0-9_-]{0,31}$/;

export function instanceId(vm: Pick<VmRecord, 'name' | 'createdAt'>): string {
  return `${vm.name}-${vm.createdAt.replace(/[^0-9A-Za-z]/g, '')}`;
}

export function renderCloudInit(input: CloudInitInput): CloudInitDocs {
  const { vm } = input;
  const publicKey = input.publicKey.trim();
  if (!publicKey || /[\r\n\0]/.test(publicKey)) throw new CloudInitError('the lab public key must be one non-empty line');
  if (!vm.mac) throw new CloudInitError(`VM ${vm.name} has no MAC address`);
  if (!SSH_USER_RE.test(vm.sshUser)) throw new CloudInitError(`sshUser: not a Unix user name: ${JSON.stringify(vm.sshUser)}`);

  const metaData = toYaml({ 'instance-id': instanceId(vm), 'local-hostname': vm.name });
  const userData = '#cloud-config\n' + toYaml(userDataDoc(input, publicKey));
  const networkConfig = toYaml(networkDoc(input));
  return { metaData, userData, networkConfig };
}

function userDataDoc(input: CloudInitInput, publicKey: string): YamlMap {
  const { vm } = input;
  const isProv = vm.role === 'provisioner';
  const doc: YamlMap = {
    hostname: vm.name,
    fqdn: vm.name,
    preserve_hostname: false,
    manage_etc_hosts: true,
    // cloud-init 22.4 on Debian ends in status "error" when the image's default locale is missing.
    locale: 'C.UTF-8',
    ssh_pwauth: false,
    disable_root: true,
    users: [{
      name: vm.sshUser,
      groups: isProv ? ['sudo', 'docker'] : ['sudo'],
      shell: '/bin/bash',
      sudo: 'ALL=(ALL) NOPASSWD:ALL',
      lock_passwd: true,
      ssh_authorized_keys: [publicKey],
    }],
  };
  if (isProv && input.provisioner) {
    const p = input.provisioner;
    const files: WriteFile[] = [];
    if (p.natEnv !== undefined) files.push({ path: NAT_ENV_PATH, content: p.natEnv, permissions: '0644' });
    files.push(...(p.extraWriteFiles ?? []));
    for (const f of files) {
      if (!f.path.startsWith('/')) throw new CloudInitError(`write_files: path must be absolute: ${f.path}`);
      if (!/^[0-7]{3,4}$/.test(f.permissions)) throw new CloudInitError(`write_files: permissions must be octal like 0644: ${f.permissions}`);
    }
    if (files.length) doc.write_files = files.map((f) => ({ path: f.path, content: f.content, permissions: f.permissions }));
    const cmds = p.extraRuncmd ?? [];
    for (const c of cmds) if (c.length === 0) throw new CloudInitError('runcmd: an empty command');
    if (cmds.length) doc.runcmd = cmds.map((c) => [...c]);
  }
  return doc;
}

function networkDoc(input: CloudInitInput): YamlMap {
  const { vm, subnet } = input;
  if (vm.role === 'provisioner') {
    if (!vm.ip) throw new CloudInitError(`provisioner ${vm.name} has no IP address`);
    if (!vm.uplinkMac) throw new CloudInitError(`provisioner ${vm.name} has no uplink MAC`);
    if (!inSubnet(vm.ip, subnet)) throw new CloudInitError(`provisioner IP ${vm.ip} is not inside ${subnet}`);
    return {
      version: 2,
      ethernets: {
        [PRIVATE_IFNAME]: {
          match: { macaddress: vm.mac },
          'set-name': PRIVATE_IFNAME,
          dhcp4: false,
          addresses: [`${vm.ip}/${cidrInfo(subnet).prefix}`, ...(input.provisioner?.ulaAddress ? [input.provisioner.ulaAddress] : [])],
        },
        [UPLINK_IFNAME]: {
          match: { macaddress: vm.uplinkMac },
          'set-name': UPLINK_IFNAME,
          dhcp4: true,
        },
      },
    };
  }
  // A target always uses DHCP; a reservation (vm.ip) is handed out by the provisioner's dnsmasq.
  return {
    version: 2,
    ethernets: {
      [PRIVATE_IFNAME]: {
        match: { macaddress: vm.mac },
        'set-name': PRIVATE_IFNAME,
        dhcp4: true,
        // Identify by MAC (not a machine-id DUID) so the lease follows the NIC across reinstalls.
        'dhcp-identifier': 'mac',
      },
    },
  };
}

// ---- a tiny safe YAML emitter -------------------------------------------------------------------

export type YamlValue = string | number | boolean | null | YamlValue[] | YamlMap;
export interface YamlMap { [key: string]: YamlValue }

/** A YAML double-quoted scalar whose text is printable ASCII only (valid for YAML 1.1 and 1.2). */
export function yamlString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else if (c <= 0xffff) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += '\\U' + c.toString(16).padStart(8, '0');
  }
  return out + '"';
}

function yamlKey(k: string): string {
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(k) ? k : yamlString(k);
}

function isScalar(v: YamlValue): v is string | number | boolean | null {
  return v === null || typeof v !== 'object';
}

function scalar(v: string | number | boolean | null): string {
  if (typeof v === 'string') return yamlString(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`YAML: cannot emit ${v}`);
    return String(v);
  }
  return v === null ? 'null' : String(v);
}

function emptyCollection(v: YamlValue): string | null {
  if (Array.isArray(v)) return v.length === 0 ? '[]' : null;
  if (v !== null && typeof v === 'object') return Object.keys(v).length === 0 ? '{}' : null;
  return null;
}

/**
 * Block style throughout, two-space indent. Lists of scalars inside lists (an argv in runcmd) are
 * written in flow style, `- ["cmd", "arg"]`, which is also what a person would write.
 */
function emit(v: YamlMap | YamlValue[], indent: string, lines: string[]): void {
  if (Array.isArray(v)) {
    for (const item of v) {
      if (isScalar(item)) { lines.push(`${indent}- ${scalar(item)}`); continue; }
      const empty = emptyCollection(item);
      if (empty !== null) { lines.push(`${indent}- ${empty}`); continue; }
      if (Array.isArray(item)) {
        if (item.every(isScalar)) { lines.push(`${indent}- [${item.map(scalar).join(', ')}]`); continue; }
        lines.push(`${indent}-`);
        emit(item, indent + '  ', lines);
        continue;
      }
      // A map inside a list: its first key shares the dash line, the others align with it.
      const sub: string[] = [];
      emit(item, indent + '  ', sub);
      sub[0] = `${indent}- ${sub[0].slice(indent.length + 2)}`;
      lines.push(...sub);
    }
    return;
  }
  for (const [k, val] of Object.entries(v)) {
    if (isScalar(val)) { lines.push(`${indent}${yamlKey(k)}: ${scalar(val)}`); continue; }
    const empty = emptyCollection(val);
    if (empty !== null) { lines.push(`${indent}${yamlKey(k)}: ${empty}`); continue; }
    lines.push(`${indent}${yamlKey(k)}:`);
    emit(val, indent + '  ', lines);
  }
}

export function toYaml(doc: YamlMap | YamlValue[]): string {
  const lines: string[] = [];
  emit(doc, '', lines);
  return lines.join('\n') + '\n';
}
