// lab.yaml: the whole lab in one file — network, provisioner, targets, reservations, boot profiles,
// artifacts. Parsed with `yaml`, validated with zod (the field schemas of ../spec.ts); every error names
// file:line:column, the field and the fix. Pure: text in, a DesiredLab (or errors) out.
import { LineCounter, parseDocument, isMap, isPair, isScalar, type Document, type Node } from 'yaml';
import { z } from 'zod';
import { arch, cidr, firmware, hostArch, netboot, inSubnet, ipToInt, ipv4, localMac, mac, sizeMiB, vmName, type Arch } from '../spec.ts';
import { artifactName, profileCmdline, type BootProfile } from '../provisioner/pxe.ts';
import { loadersFor, profileCmdlineProblem } from '../provisioner/cmdline.ts';
import type { DesiredLab, DesiredProfile } from './desired.ts';
import { CATALOGUE_NAMES, findBootProfile, liveArtifactNames, type CatalogueName } from './catalogue.ts';

/** What a target's or reservation's `profile:` may name: none, a catalogue entry (live is the default) or one of profiles:. */
const BUILTIN_PROFILES: readonly string[] = ['live', 'none', ...CATALOGUE_NAMES.filter((n) => n !== 'live')];

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'use the 64 lowercase hex digits of sha256sum');
const size = (field: string, min: number, max: number, dfltMiB: number) => sizeMiB(field, min, max).optional().transform((n) => `${n ?? dfltMiB}M`);
const profileName = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'use a lowercase name (letters, digits, "-")');
// the API's own cmdline schema (pxe.ts): what one loader cannot carry is checked per target below (crossCheck)
const kernelProfile = z.object({ kernel: artifactName, initrd: artifactName.optional(), cmdline: profileCmdline }).strict();
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

/**
 * What the cross-checks read: every field that passed its own schema, the others left out — so a file with
 * schema errors still gets its duplicates, addresses and profile references checked (all problems at once).
 * Array indexes are kept (issues name `targets[2].ip`).
 */
interface CrossView {
  network?: { subnet?: string; dhcpRange?: [string, string] };
  provisioner: { name?: string; arch?: Arch };
  targets: { name?: string; arch?: Arch; mac?: string; ip?: string; memory?: string; profile?: string }[];
  reservations: { mac?: string; ip?: string; hostname?: string; profile?: string }[];
  profiles: Record<string, { kernel?: string; initrd?: string; cmdline?: string; script?: string }>;
  artifacts: { name?: string }[];
}

const ok = <T extends z.ZodType>(s: T) => s.optional().catch(undefined);
const items = <T extends z.ZodType>(s: T) => z.array(s.catch({} as z.output<T>)).catch([]);
const crossView = z.object({
  network: z.object({ subnet: ok(cidr), dhcpRange: ok(z.tuple([ipv4, ipv4])) }).optional().catch(undefined),
  provisioner: z.object({ name: ok(vmName), arch: ok(arch) }).catch({}).default({}),
  targets: items(z.object({ name: ok(vmName), arch: ok(arch), mac: ok(localMac), ip: ok(ipv4), memory: ok(sizeMiB('memory', 128, 65536).transform((n) => `${n}M`)), profile: ok(z.string()) })).default([]),
  reservations: items(z.object({ mac: ok(mac), ip: ok(ipv4), hostname: ok(vmName), profile: ok(z.string()) })).default([]),
  profiles: z.record(z.string(), z.object({ kernel: ok(artifactName), initrd: ok(artifactName), cmdline: ok(profileCmdline), script: ok(z.string()) }).catch({})).catch({}).default({}),
  artifacts: items(z.object({ name: ok(artifactName) })).default([]),
});

/** Cross-field rules: unique names/MACs/IPs, IPs inside the subnet and outside the DHCP range, known profiles and artifacts, cmdlines each target's loader carries. */
function crossCheck(f: CrossView, subnet: string, dhcp: [string, string], provArch: Arch): { path: Path; message: string }[] {
  const out: { path: Path; message: string }[] = [];
  const seen = new Map<string, string>();
  const once = (kind: string, value: string | undefined, path: Path, fix: string) => {
    if (value === undefined) return;
    const k = `${kind}:${value}`;
    if (seen.has(k)) out.push({ path, message: `${kind} ${value} is already used by ${seen.get(k)}: ${fix}` });
    else seen.set(k, showPath(path.slice(0, -1)) || 'provisioner');
  };
  once('name', f.provisioner.name ?? 'prov', ['provisioner', 'name'], 'give each VM its own name');
  const provIp = dhcp[0].replace(/\.\d+$/, '.1');
  f.targets.forEach((t, i) => {
    once('name', t.name, ['targets', i, 'name'], 'give each VM its own name');
    once('MAC', t.mac, ['targets', i, 'mac'], 'give each machine its own MAC (or leave mac out for a random one)');
  });
  f.reservations.forEach((r, i) => {
    once('MAC', r.mac, ['reservations', i, 'mac'], 'one reservation per MAC; a target\'s own reservation comes from its entry');
    once('name', r.hostname, ['reservations', i, 'hostname'], 'use a hostname no VM or other reservation has');
  });
  const ips: [string | undefined, Path][] = [...f.targets.map((t, i): [string | undefined, Path] => [t.ip, ['targets', i, 'ip']]), ...f.reservations.map((r, i): [string | undefined, Path] => [r.ip, ['reservations', i, 'ip']])];
  for (const [ip, path] of ips) {
    if (!ip) continue;
    if (!inSubnet(ip, subnet)) out.push({ path, message: `${ip} is outside the lab's network ${subnet}: use a host address of it, e.g. ${provIp.replace(/\.1$/, '.10')}` });
    else if (ip === provIp) out.push({ path, message: `${ip} is the provisioner's address: use another one (.2–.99)` });
    else if (ipToInt(ip) >= ipToInt(dhcp[0]) && ipToInt(ip) <= ipToInt(dhcp[1])) out.push({ path, message: `${ip} is inside the DHCP range ${dhcp[0]}–${dhcp[1]}: reserve an address outside it (e.g. .2–.99)` });
    else once('IP', ip, path, 'give each machine its own address');
  }
  const names = new Set([...BUILTIN_PROFILES, ...Object.keys(f.profiles)]);
  const fix = `use ${BUILTIN_PROFILES.join(', ')} or one of profiles: (${Object.keys(f.profiles).join(', ') || 'none defined'})`;
  // who boots each profile, through which loaders (x86_64: iPXE, aarch64: GRUB; a MAC with no VM: both)
  const users = new Map<string, { who: Path; arch: Arch | null }[]>();
  const use = (p: string | undefined, who: Path, a: Arch | null) => { if (p) users.set(p, [...(users.get(p) ?? []), { who, arch: a }]); };
  f.targets.forEach((t, i) => {
    if (t.profile !== undefined && !names.has(t.profile)) out.push({ path: ['targets', i, 'profile'], message: `no profile named '${t.profile}': ${fix}` });
    use(t.profile, ['targets', i], t.arch ?? provArch);
    const entry = t.profile && !(t.profile in f.profiles) && (CATALOGUE_NAMES as readonly string[]).includes(t.profile) ? findBootProfile(t.profile) : null;
    if (entry && !entry.arches.includes(t.arch ?? provArch)) out.push({ path: ['targets', i, 'profile'], message: `'${entry.name}' has no ${t.arch ?? provArch} build: use it on ${entry.arches.join(' or ')} targets` });
  });
  f.reservations.forEach((r, i) => {
    if (r.profile !== undefined && !names.has(r.profile)) out.push({ path: ['reservations', i, 'profile'], message: `no profile named '${r.profile}': ${fix}` });
    use(r.profile, ['reservations', i], null);
  });
  const arts = new Set([...f.artifacts.flatMap((a) => (a.name ? [a.name] : [])), ...[provArch, ...f.targets.map((t) => t.arch ?? provArch)].flatMap((a) => Object.values(liveArtifactNames(a)))]);
  for (const [i, a] of f.artifacts.entries()) once('artifact', a.name, ['artifacts', i, 'name'], 'give each artifact its own name');
  for (const [name, p] of Object.entries(f.profiles)) {
    for (const field of ['kernel', 'initrd'] as const) {
      const a = p[field];
      if (a && !arts.has(a)) out.push({ path: ['profiles', name, field], message: `artifact '${a}' is not in artifacts: add it there (name, path, sha256)` });
    }
    if (p.cmdline === undefined || p.kernel === undefined) continue;
    for (const u of users.get(name) ?? []) {
      const problem = profileCmdlineProblem(p.cmdline, loadersFor(u.arch));
      if (problem) { out.push({ path: ['profiles', name, 'cmdline'], message: `${showPath(u.who)} boots it${u.arch ? ` (${u.arch})` : ''}: ${problem}` }); break; }
    }
  }
  return out;
}

export interface ParsedLabFile { desired: DesiredLab; file: LabFile; network: { subnet: string; dhcpRange: [string, string] } | null }

/**
 * Parse and check a lab file. `lab` gives what the file may leave out: the current network and the host's
 * arch. Throws LabFileError with every problem at once — schema errors and the cross-checks that can still
 * run on the fields that passed — each with line:col and the fix, sorted by position; never touches the lab.
 */
export function parseLabFile(text: string, fileName: string, lab: { subnet: string; dhcpRange: [string, string]; hostArch?: Arch }): ParsedLabFile {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    throw new LabFileError(fileName, doc.errors.map((e) => ({ line: e.linePos?.[0].line ?? 1, col: e.linePos?.[0].col ?? 1, path: '',
      message: `${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')} (YAML syntax)` })));
  }
  const raw = doc.toJS() ?? {};
  const r = fileSchema.safeParse(raw);
  const issues: LabFileIssue[] = r.success ? [] : r.error.issues.map((i) => {
    const path = i.path as Path;
    if (i.code === 'unrecognized_keys') {
      const pos = locate(doc, lc, path, i.keys[0]);
      return { ...pos, path: showPath([...path, i.keys[0]]), message: `unknown key '${i.keys.join("', '")}': remove it or check its spelling (see the lab file reference in README.md)` };
    }
    const msg = i.code === 'invalid_type' && !doc.hasIn(path) ? 'missing: this field is required' : i.message;
    return { ...locate(doc, lc, path), path: showPath(path), message: msg };
  });
  const view: CrossView = r.success ? r.data : crossView.parse(typeof raw === 'object' && !Array.isArray(raw) ? raw : {});
  const subnet = view.network?.subnet ?? lab.subnet;
  const dhcp = view.network?.dhcpRange ?? (view.network?.subnet ? defaultRange(subnet) : lab.dhcpRange);
  const provArch = view.provisioner.arch ?? lab.hostArch ?? hostArch();
  for (const c of crossCheck(view, subnet, dhcp, provArch)) issues.push({ ...locate(doc, lc, c.path), path: showPath(c.path), message: c.message });
  if (issues.length || !r.success) throw new LabFileError(fileName, issues.sort((a, b) => a.line - b.line || a.col - b.col));

  const f = r.data;
  const profile = (name: string): DesiredProfile => {
    if (name === 'live') return 'live';
    if (name === 'none') return null;
    const p = f.profiles[name];
    if (!p) return { catalogue: name as Exclude<CatalogueName, 'live'> };
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
