// VM record → the three NoCloud documents (meta-data, user-data, network-config). Pure.
//
// The YAML comes from the `yaml` package with every string double-quoted and escaped, so no value — a key
// comment, a file's content, a command — can end a line, open a comment or start a key of its own.
import { Document, isScalar, isSeq, visit } from 'yaml';
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

// ---- YAML out ---------------------------------------------------------------------------------------

export type YamlValue = string | number | boolean | null | YamlValue[] | YamlMap;
export interface YamlMap { [key: string]: YamlValue }

/**
 * YAML text for a document (the `yaml` package): block style with two-space indents, every string double-quoted
 * on one line with escapes, printable ASCII only (no value can end a line, open a comment or start a key), and a list of
 * scalars inside a list (an argv in runcmd) in flow style, `- ["cmd", "arg"]`, as a person writes it.
 * Errors: non-finite numbers.
 */
export function toYaml(doc: YamlMap | YamlValue[]): string {
  JSON.stringify(doc, (k, v) => {
    if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`YAML: cannot emit ${v}`);
    if (/[^\x20-\x7e]/.test(k)) throw new Error(`YAML: keys are printable ASCII, got ${JSON.stringify(k)}`);
    return v;
  });
  const d = new Document(doc);
  visit(d, {
    Seq(_key, node, path) {
      const parent = path[path.length - 1];
      if (isSeq(parent) && node.items.length && node.items.every(isScalar)) node.flow = true;
    },
  });
  const text = d.toString({ defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN', doubleQuotedAsJSON: true, lineWidth: 0, flowCollectionPadding: false });
  // Printable ASCII only (as YAML 1.1 readers such as cloud-init's PyYAML need: NEL, LS and PS are line breaks
  // there): every non-ASCII character is inside a double-quoted value — keys are ours, and ASCII — so it is escaped.
  return text.replace(/[^\x00-\x7e]/gu, (ch) => {
    const c = ch.codePointAt(0) as number;
    return c <= 0xffff ? `\\u${c.toString(16).padStart(4, '0')}` : `\\U${c.toString(16).padStart(8, '0')}`;
  });
}
