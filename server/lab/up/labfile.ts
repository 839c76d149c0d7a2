// lab.yaml: the whole lab in one file — network, provisioner, targets, reservations, boot profiles,
// artifacts. Parsed with `yaml`, validated with zod (the field schemas of ../spec.ts); every error names
// file:line:column, the field and the fix. Pure: text in, a DesiredLab (or errors) out.
import { LineCounter, parseDocument, isMap, isPair, isScalar, type Document, type Node } from 'yaml';
import { z } from 'zod';
import { arch, cidr, firmware, hostArch, netboot, inSubnet, ipToInt, ipv4, localMac, mac, sizeMiB, vmName, type Arch } from '../spec.ts';
import { artifactName, type BootProfile } from '../provisioner/pxe.ts';
import type { DesiredLab, DesiredProfile } from './desired.ts';

/** Catalogue entries a profile: may name besides live and none (catalogue.ts). */
const CATALOGUE_NAMES = ['debian-12-installer', 'netboot.xyz'] as const;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'use the 64 lowercase hex digits of sha256sum');
const size = (field: string, min: number, max: number, dfltMiB: number) => sizeMiB(field, min, max).optional().transform((n) => `${n ?? dfltMiB}M`);
const profileName = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'use a lowercase name (letters, digits, "-")');
const kernelProfile = z.object({ kernel: artifactName, initrd: artifactName.optional(), cmdline: z.string().max(2000).refine((s) => !/[\0\n\r]/.test(s), 'no control characters').default('') }).strict();
const scriptProfile = z.object({ script: z.string().max(64 * 1024).refine((s) => s.startsWith('#!ipxe'), 'an iPXE script starts with #!ipxe') }).strict();

const fileSchema = z.object({
  version: z.literal(1, 'use version: 1').default(1),
  network: z.object({ subnet: cidr, dhcpRange: z.tuple([ipv4, ipv4]).optional() }).strict().optional(),
  provisioner: z.object({
    name: vmName.default('prov'), arch: arch.optional(), image: z.string().min(1).default('auto'),
    cpus: z.number().int().min(1, 'at least 1').max(16, 'at most 16').default(2), memory: size('memory', 512, 65536, 2048),
  }).strict().prefault({}),
  targets: z.array(z.object({
    name: vmName, arch: arch.optional(), mac: localMac.optional(), ip: ipv4.optional(), memory: size('memory', 128, 65536, 512),
    profile: z.string().default('live'), sshUser: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'a Unix user name').default('root'),
    /** x86_64: bios (default) or uefi; secureBoot needs uefi; netboot http = UEFI HTTP Boot (checked with the VM's create input). */
    firmware: firmware.optional(), secureBoot: z.boolean().optional(), netboot: netboot.optional(),
  }).strict()).default([]),
  reservations: z.array(z.object({ mac, ip: ipv4, hostname: vmName, profile: z.string().default('none') }).strict()).default([]),
  profiles: z.record(profileName, z.union([kernelProfile, scriptProfile], 'a profile has kernel (+ initrd, cmdline) or script')).default({}),
  artifacts: z.array(z.object({ name: artifactName, path: z.string().min(1).optional(), sha256 }).strict()).default([]),
}).strict();
export type LabFile = z.infer<typeof fileSchema>;

export interface LabFileIssue { line: number; col: number; path: string; message: string }

export class LabFileError extends Error {
  constructor(readonly file: string, readonly issues: LabFileIssue[]) {
    super(issues.map((i) => `${file}:${i.line}:${i.col}: ${i.path ? `${i.path}: ` : ''}${i.message}`).join('\n'));
  }
}

type Path = (string | number)[];
const showPath = (p: Path) => p.map((k, i) => (typeof k === 'number' ? `[${k}]` : i ? `.${k}` : k)).join('');

/** line:col of the deepest node of `path` that exists (or of the key `key` inside it). */
function locate(doc: Document, lc: LineCounter, path: Path, key?: string): { line: number; col: number } {
  for (let n = path.length; n >= 0; n--) {
    const node = (n ? doc.getIn(path.slice(0, n), true) : doc.contents) as Node | null | undefined;
    if (!node || !('range' in node) || !node.range) continue;
    if (key && n === path.length && isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key);
      if (pair && isScalar(pair.key) && pair.key.range) return lc.linePos(pair.key.range[0]);
    }
    return lc.linePos(node.range[0]);
  }
  return { line: 1, col: 1 };
}

/** Cross-field rules: unique names/MACs/IPs, IPs inside the subnet and outside the DHCP range, known profiles and artifacts. */
function crossCheck(f: LabFile, subnet: string, dhcp: [string, string], liveArtifacts: string[]): { path: Path; message: string }[] {
  const out: { path: Path; message: string }[] = [];
  const seen = new Map<string, string>();
  const once = (kind: string, value: string, path: Path, fix: string) => {
    const k = `${kind}:${value}`;
    if (seen.has(k)) out.push({ path, message: `${kind} ${value} is already used by ${seen.get(k)}: ${fix}` });
    else seen.set(k, showPath(path.slice(0, -1)) || 'provisioner');
  };
  once('name', f.provisioner.name, ['provisioner', 'name'], 'give each VM its own name');
  const provIp = dhcp[0].replace(/\.\d+$/, '.1');
  f.targets.forEach((t, i) => {
    once('name', t.name, ['targets', i, 'name'], 'give each VM its own name');
    if (t.mac) once('MAC', t.mac, ['targets', i, 'mac'], 'give each machine its own MAC (or leave mac out for a random one)');
  });
  f.reservations.forEach((r, i) => {
    once('MAC', r.mac, ['reservations', i, 'mac'], 'one reservation per MAC; a target\'s own reservation comes from its entry');
    once('name', r.hostname, ['reservations', i, 'hostname'], 'use a hostname no VM or other reservation has');
  });
  const ips: [string, Path][] = [...f.targets.flatMap((t, i): [string, Path][] => (t.ip ? [[t.ip, ['targets', i, 'ip']]] : [])), ...f.reservations.map((r, i): [string, Path] => [r.ip, ['reservations', i, 'ip']])];
  for (const [ip, path] of ips) {
    if (!inSubnet(ip, subnet)) out.push({ path, message: `${ip} is outside the lab's network ${subnet}: use a host address of it, e.g. ${provIp.replace(/\.1$/, '.10')}` });
    else if (ip === provIp) out.push({ path, message: `${ip} is the provisioner's address: use another one (.2–.99)` });
    else if (ipToInt(ip) >= ipToInt(dhcp[0]) && ipToInt(ip) <= ipToInt(dhcp[1])) out.push({ path, message: `${ip} is inside the DHCP range ${dhcp[0]}–${dhcp[1]}: reserve an address outside it (e.g. .2–.99)` });
    else once('IP', ip, path, 'give each machine its own address');
  }
  const names = new Set(['live', 'none', ...CATALOGUE_NAMES, ...Object.keys(f.profiles)]);
  const fix = `use live, none, ${CATALOGUE_NAMES.join(', ')} or one of profiles: (${Object.keys(f.profiles).join(', ') || 'none defined'})`;
  f.targets.forEach((t, i) => { if (!names.has(t.profile)) out.push({ path: ['targets', i, 'profile'], message: `no profile named '${t.profile}': ${fix}` }); });
  f.reservations.forEach((r, i) => { if (!names.has(r.profile)) out.push({ path: ['reservations', i, 'profile'], message: `no profile named '${r.profile}': ${fix}` }); });
  const arts = new Set([...f.artifacts.map((a) => a.name), ...liveArtifacts]);
  for (const [i, a] of f.artifacts.entries()) once('artifact', a.name, ['artifacts', i, 'name'], 'give each artifact its own name');
  for (const [name, p] of Object.entries(f.profiles)) {
    for (const field of ['kernel', 'initrd'] as const) {
      const a = 'kernel' in p ? p[field] : undefined;
      if (a && !arts.has(a)) out.push({ path: ['profiles', name, field], message: `artifact '${a}' is not in artifacts: add it there (name, path, sha256)` });
    }
  }
  return out;
}

export interface ParsedLabFile { desired: DesiredLab; file: LabFile; network: { subnet: string; dhcpRange: [string, string] } | null }

/**
 * Parse and check a lab file. `lab` gives what the file may leave out: the current network and live
 * artifact names. Throws LabFileError (every issue with line:col and the fix); never touches the lab.
 */
export function parseLabFile(text: string, fileName: string, lab: { subnet: string; dhcpRange: [string, string]; hostArch?: Arch }): ParsedLabFile {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    throw new LabFileError(fileName, doc.errors.map((e) => ({ line: e.linePos?.[0].line ?? 1, col: e.linePos?.[0].col ?? 1, path: '',
      message: `${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')} (YAML syntax)` })));
  }
  const r = fileSchema.safeParse(doc.toJS() ?? {});
  if (!r.success) {
    throw new LabFileError(fileName, r.error.issues.map((i) => {
      const path = i.path as Path;
      if (i.code === 'unrecognized_keys') {
        const pos = locate(doc, lc, path, i.keys[0]);
        return { ...pos, path: showPath([...path, i.keys[0]]), message: `unknown key '${i.keys.join("', '")}': remove it or check its spelling (see the lab file reference in README.md)` };
      }
      const msg = i.code === 'invalid_type' && !doc.hasIn(path) ? 'missing: this field is required' : i.message;
      return { ...locate(doc, lc, path), path: showPath(path), message: msg };
    }));
  }
  const f = r.data;
  const subnet = f.network?.subnet ?? lab.subnet;
  const dhcp = f.network?.dhcpRange ?? (f.network ? defaultRange(subnet) : lab.dhcpRange);
  const provArch = f.provisioner.arch ?? lab.hostArch ?? hostArch();
  const arches = [...new Set([provArch, ...f.targets.map((t) => t.arch ?? provArch)])];
  const cross = crossCheck(f, subnet, dhcp, arches.flatMap((a) => [`pvmlab-live-${a}-vmlinuz`, `pvmlab-live-${a}-initrd.img`]));
  if (cross.length) throw new LabFileError(fileName, cross.map((c) => ({ ...locate(doc, lc, c.path), path: showPath(c.path), message: c.message })));

  const profile = (name: string): DesiredProfile => {
    if (name === 'live') return 'live';
    if (name === 'none') return null;
    const p = f.profiles[name];
    if (!p && (CATALOGUE_NAMES as readonly string[]).includes(name)) return { catalogue: name as (typeof CATALOGUE_NAMES)[number] };
    return ('script' in p ? { kind: 'script', script: p.script } : { kind: 'kernel', kernel: p.kernel, initrd: p.initrd, cmdline: p.cmdline }) as BootProfile;
  };
  const desired: DesiredLab = {
    provisioner: { name: f.provisioner.name, arch: provArch, image: f.provisioner.image, cpus: f.provisioner.cpus, memory: f.provisioner.memory },
    targets: f.targets.map((t) => ({ name: t.name, arch: t.arch ?? provArch, boot: 'pxe', profile: profile(t.profile), memory: t.memory, sshUser: t.sshUser,
      ...(t.ip ? { ip: t.ip } : {}), ...(t.mac ? { mac: t.mac } : {}),
      ...(t.firmware ? { firmware: t.firmware } : {}), ...(t.secureBoot ? { secureBoot: true } : {}), ...(t.netboot ? { netboot: t.netboot } : {}) })),
    reservations: f.reservations.map((x) => ({ mac: x.mac, ip: x.ip, hostname: x.hostname, profile: profile(x.profile) })),
    artifacts: f.artifacts,
    ...(f.network ? { network: { subnet, dhcpRange: dhcp } } : {}),
  };
  return { desired, file: f, network: f.network ? { subnet, dhcpRange: dhcp } : null };
}

/** .100–.200 of a /24 (the lab's default shape), else the upper half of the subnet. */
export function defaultRange(subnet: string): [string, string] {
  const base = subnet.split('/')[0].split('.').slice(0, 3).join('.');
  return [`${base}.100`, `${base}.200`];
}

/** The lab file's JSON Schema (for editors: `# yaml-language-server: $schema=…`), from the same zod schema. */
export function labFileJsonSchema(): object {
  return { $id: 'https://pvmlab.local/lab.schema.json', title: 'pvmlab lab file', ...z.toJSONSchema(fileSchema, { io: 'input', unrepresentable: 'any' }) };
}
