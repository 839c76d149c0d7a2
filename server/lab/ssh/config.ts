// The lab's ssh_config (configs/ssh_config): one Host per VM, targets jump through the provisioner.
// Pure rendering; `sshArgv` is what `pvmlab vm shell`, the web terminal and the provisioner executor run.
import fs from 'node:fs';
import path from 'node:path';
import type { LabHome } from '../home.ts';
import { writeFileAtomic } from '../home.ts';
import type { VmRecord } from '../spec.ts';
import { ConflictError } from '../errors.ts';
import { ensureRunDir, SSH_CONTROL_NAME } from '../rundir.ts';

/**
 * A path as one ssh_config argument that ssh reads back unchanged: "%" doubled (ssh expands %-tokens in
 * IdentityFile, UserKnownHostsFile and ControlPath), double-quoted when it has whitespace. `tail` is appended
 * as is (e.g. "/cm-%C", a token ssh must expand). ssh_config has no way to write a double quote inside a
 * quoted argument: such a path is refused, never silently changed.
 */
export function sshConfigPath(p: string, tail = ''): string {
  if (/["\r\n]/.test(p)) throw new Error(`cannot write this path into ssh_config (it has a double quote or a line break): ${JSON.stringify(p)}; move the lab home (PVMLAB_HOME)`);
  const t = p.replace(/%/g, '%%') + tail;
  return /\s/.test(t) ? `"${t}"` : t;
}
const q = (p: string) => sshConfigPath(p);

export interface SshTarget { name: string; role: VmRecord['role']; user: string; sshPort: number | null; ip: string | null }

export function renderSshConfig(paths: { privateKey: string; knownHosts: string; controlDir: string }, vms: SshTarget[]): string {
  const common = [
    `  IdentityFile ${q(paths.privateKey)}`,
    '  IdentitiesOnly yes',
    `  UserKnownHostsFile ${q(paths.knownHosts)}`,
    '  StrictHostKeyChecking accept-new',
    '  PasswordAuthentication no',
    '  KbdInteractiveAuthentication no',
    '  ConnectTimeout 10',
    '  ServerAliveInterval 15',
    '  LogLevel ERROR',
    // One TCP connection per VM, reused by every command (the provisioner's readiness runs hundreds):
    // the master exits 30 s after its last client, or at once when the VM goes away.
    '  ControlMaster auto',
    `  ControlPath ${sshConfigPath(paths.controlDir, `/${SSH_CONTROL_NAME}`)}`,
    '  ControlPersist 30',
  ];
  const prov = vms.find((v) => v.role === 'provisioner' && v.sshPort);
  const out = ['# Written by pvmlab: ssh -F <this file> <vm-name>', ''];
  for (const v of vms) {
    if (v.role === 'provisioner') {
      if (!v.sshPort) continue;
      out.push(`Host ${v.name}`, '  HostName 127.0.0.1', `  Port ${v.sshPort}`, `  User ${v.user}`, `  HostKeyAlias pvmlab-${v.name}`, ...common, '');
    } else if (prov && v.ip) {
      out.push(`Host ${v.name}`, `  HostName ${v.ip}`, '  Port 22', `  User ${v.user}`, `  ProxyJump ${prov.name}`, `  HostKeyAlias pvmlab-${v.name}`, ...common, '');
    }
  }
  return out.join('\n');
}

/** No way to reach the VM by SSH right now (a state, not a bug): → CONFLICT. */
export class SshUnavailable extends ConflictError {}

/** Write the config for the current lab and return the ssh argv for a VM (and an optional remote command). */
export function sshArgv(home: LabHome, vms: SshTarget[], name: string, command?: string[], opts: { tty?: boolean } = {}): string[] {
  const vm = vms.find((v) => v.name === name);
  if (!vm) throw new SshUnavailable(`no VM named '${name}'`);
  if (vm.role === 'target') {
    if (!vms.some((v) => v.role === 'provisioner' && v.sshPort)) throw new SshUnavailable(`'${name}' is reached through the provisioner, and the lab has none`);
    if (!vm.ip) throw new SshUnavailable(`'${name}' has no private IP yet (no reservation and no DHCP lease): start it and wait for its lease`);
  }
  const file = path.join(home.dir('configs'), 'ssh_config');
  ensureRunDir(home.runDir); // the control master's socket lives there (recreated if /tmp was emptied)
  const text = renderSshConfig({ privateKey: home.privateKey, knownHosts: home.knownHosts, controlDir: path.dirname(home.sshControlPath) }, vms);
  if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text) writeFileAtomic(file, text, 0o600);
  return ['ssh', '-F', file, ...(opts.tty ? ['-tt'] : []), name, ...(command ?? [])];
}
