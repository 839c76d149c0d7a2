// `pvmlab pxe …`: the PXE page's actions on the command line — reservations, boot profiles, artifacts,
// leases — over the same domain calls as the panel. Every listing takes --json.
import fs from 'node:fs';
import path from 'node:path';
import { parseCommand, UsageError } from '../args.ts';
import { formatBytes, formatTable } from '../format.ts';
import type { Command } from '../../cli.ts';
import { BOOT_CATALOGUE, CATALOGUE_NAMES, catalogueOf, Lab, type BootProfile, type Explanation, type Reservation } from '../../lab/lab.ts';
import { arch as archSchema, firmware as firmwareSchema, mac as macSchema } from '../../lab/spec.ts';
import { NotFoundError } from '../../lab/errors.ts';
import { group } from '../common.ts';

/** How a profile reads in a table (pure). */
export function describeProfile(p: BootProfile): string {
  if (p.kind === 'exit') return 'none — boots nothing until it gets one';
  if (p.kind === 'script') return `iPXE script (${p.script.split('\n').length} lines)`;
  const entry = catalogueOf(p);
  if (entry === 'live') return 'live (the default boot profile)';
  if (entry) return `${entry} (catalogue)`;
  return `kernel ${p.kernel}${p.initrd ? ` + ${p.initrd}` : ''}${p.cmdline ? ` "${p.cmdline.length > 40 ? p.cmdline.slice(0, 37) + '…' : p.cmdline}"` : ''}`;
}

const json = { json: { type: 'boolean' } } as const;
const print = (asJson: boolean, data: unknown, table: () => string) => console.log(asJson ? JSON.stringify(data, null, 2) : table());
const reservationTable = (list: Reservation[]) => (list.length
  ? formatTable(['MAC', 'IP', 'HOSTNAME', 'PROFILE'], list.map((r) => [r.mac, r.ip, r.hostname, describeProfile(r.profile)]))
  : 'no reservations: pvmlab pxe reservations set <mac> <ip> <hostname>');

/** A target by VM name or hostname, or a MAC → its reservation. */
function findReservation(lab: Lab, who: string): Reservation {
  const list = lab.reservations();
  const asMac = macSchema.safeParse(who);
  const vm = lab.listVmsNow().find((v) => v.name === who);
  const r = list.find((x) => (asMac.success && x.mac === asMac.data) || (vm && x.mac === vm.mac) || x.hostname === who);
  if (!r) throw new NotFoundError(`no reservation for '${who}': give a PXE target's name, a reserved hostname or MAC (pvmlab pxe reservations lists them)`);
  return r;
}

const reservations: Command = {
  usage: 'pvmlab pxe reservations [--json] | set <mac> <ip> <hostname> | rm <mac|hostname>',
  summary: 'DHCP reservations for any MAC on the private network',
  async run(argv) {
    const [sub, ...rest] = argv;
    const lab = await Lab.open();
    if (sub === 'set') {
      const { positionals } = parseCommand(rest, {}, { min: 3, max: 3, usage: 'pvmlab pxe reservations set <mac> <ip> <hostname>' });
      const [m, ip, hostname] = positionals;
      const old = lab.reservations().find((x) => x.mac === macSchema.safeParse(m).data);
      const r = await lab.setReservation({ mac: m, ip, hostname, profile: old?.profile ?? { kind: 'exit' } });
      console.log(`reserved ${r.ip} (${r.hostname}) for ${r.mac}${r.profile.kind === 'exit' ? `; it boots nothing until it gets a profile: pvmlab pxe profile ${r.hostname} --live` : ''}`);
      return 0;
    }
    if (sub === 'rm') {
      const { positionals } = parseCommand(rest, {}, { min: 1, max: 1, usage: 'pvmlab pxe reservations rm <mac|hostname>' });
      const r = findReservation(lab, positionals[0]);
      await lab.removeReservation(r.mac);
      console.log(`removed the reservation of ${r.mac} (${r.ip} ${r.hostname})`);
      return 0;
    }
    const { values } = parseCommand(sub === 'ls' ? rest : argv, json, { min: 0, max: 0, usage: this.usage });
    const list = lab.reservations();
    print(!!values.json, list, () => reservationTable(list));
    return 0;
  },
};

const profile: Command = {
  usage: 'pvmlab pxe profile <target|mac> [--live | --catalogue NAME | --none | --kernel ARTIFACT [--initrd ARTIFACT] [--cmdline ARGS] | --script FILE] [--json]',
  summary: "show or set a target's boot profile (--live: the default live Linux; --catalogue: pvmlab pxe catalogue)",
  async run(argv) {
    const { values, positionals } = parseCommand(argv, { live: { type: 'boolean' }, catalogue: { type: 'string' }, none: { type: 'boolean' }, kernel: { type: 'string' }, initrd: { type: 'string' },
      cmdline: { type: 'string' }, script: { type: 'string' }, ...json }, { min: 1, max: 1, usage: this.usage });
    const chosen = ['live', 'catalogue', 'none', 'kernel', 'script'].filter((k) => values[k] !== undefined);
    if (chosen.length > 1) throw new UsageError(`choose one of --live, --catalogue, --none, --kernel, --script (got --${chosen.join(', --')})`);
    if (typeof values.catalogue === 'string' && !(CATALOGUE_NAMES as readonly string[]).includes(values.catalogue)) throw new UsageError(`--catalogue: use one of ${CATALOGUE_NAMES.join(', ')}`);
    if (!values.kernel && (values.initrd || values.cmdline)) throw new UsageError('--initrd and --cmdline go with --kernel');
    const lab = await Lab.open();
    let r = findReservation(lab, positionals[0]);
    if (values.live || typeof values.catalogue === 'string') r = await lab.setCatalogueProfile(r.mac, typeof values.catalogue === 'string' ? values.catalogue : 'live');
    else if (values.none) r = await lab.setProfile(r.mac, { kind: 'exit' });
    else if (typeof values.kernel === 'string') r = await lab.setProfile(r.mac, { kind: 'kernel', kernel: values.kernel, initrd: typeof values.initrd === 'string' ? values.initrd : undefined, cmdline: typeof values.cmdline === 'string' ? values.cmdline : '' });
    else if (typeof values.script === 'string') r = await lab.setProfile(r.mac, { kind: 'script', script: fs.readFileSync(values.script, 'utf8') });
    print(!!values.json, r, () => `${r.hostname} (${r.mac}, ${r.ip}): ${describeProfile(r.profile)}${chosen.length ? '\nit boots this at its next start (pvmlab vm stop/start, or power-cycle the machine)' : ''}`);
    return 0;
  },
};

const artifacts: Command = {
  usage: 'pvmlab pxe artifacts [ls] [--json] | add <file> [--name NAME] | rm <name>',
  summary: 'files the provisioner serves at http://<provisioner>/artifacts/<name> (sha256 shown)',
  async run(argv) {
    const [sub, ...rest] = argv;
    const lab = await Lab.open();
    if (sub === 'add') {
      const { values, positionals } = parseCommand(rest, { name: { type: 'string' } }, { min: 1, max: 1, usage: 'pvmlab pxe artifacts add <file> [--name NAME]' });
      const file = positionals[0];
      if (!fs.statSync(file, { throwIfNoEntry: false })?.isFile()) throw new UsageError(`no such file: ${file}`);
      const name = typeof values.name === 'string' ? values.name : path.basename(file);
      await lab.uploadArtifact(name, fs.createReadStream(file), { size: fs.statSync(file).size });
      const a = (await lab.artifacts()).find((x) => x.name === name);
      console.log(`uploaded ${name} (${formatBytes(a?.size ?? 0)}, sha256 ${a?.sha256 ?? '?'})`);
      return 0;
    }
    if (sub === 'rm') {
      const { positionals } = parseCommand(rest, {}, { min: 1, max: 1, usage: 'pvmlab pxe artifacts rm <name>' });
      await lab.removeArtifact(positionals[0]);
      console.log(`removed ${positionals[0]}`);
      return 0;
    }
    const { values } = parseCommand(sub === 'ls' ? rest : argv, json, { min: 0, max: 0, usage: this.usage });
    const list = await lab.artifacts();
    print(!!values.json, list, () => (list.length ? formatTable(['NAME', 'SIZE', 'SHA256'], list.map((a) => [a.name, formatBytes(a.size), a.sha256])) : 'no artifacts: pvmlab pxe artifacts add <file> [--name NAME]'));
    return 0;
  },
};

const leases: Command = {
  usage: 'pvmlab pxe leases [--json]',
  summary: "dnsmasq's DHCP leases (the provisioner must run)",
  async run(argv) {
    const { values } = parseCommand(argv, json, { min: 0, max: 0, usage: this.usage });
    const lab = await Lab.open();
    const list = await lab.leases();
    print(!!values.json, list, () => (list.length ? formatTable(['MAC', 'IP', 'HOSTNAME', 'EXPIRES'], list.map((l) => [l.mac, l.ip, l.hostname ?? '-', l.expires ?? 'never'])) : 'no leases'));
    return 0;
  },
};

const catalogue: Command = {
  usage: 'pvmlab pxe catalogue [--json]',
  summary: 'boot profiles ready to use (pvmlab pxe profile <target> --catalogue NAME), each with where it comes from',
  async run(argv) {
    const { values } = parseCommand(argv, json, { min: 0, max: 0, usage: this.usage });
    print(!!values.json, BOOT_CATALOGUE, () => BOOT_CATALOGUE.map((e) => `${e.name}  (${[e.arches.join(', '), ...(e.approxBytes ? [`~${formatBytes(e.approxBytes)} once`] : []), ...(e.minMemoryMiB ? [`targets need ${e.minMemoryMiB / 1024}G of memory`] : []), ...(e.needsInternet ? ['needs internet through the provisioner'] : [])].join('; ')})\n    ${e.description}\n    from: ${e.source}`).join('\n'));
    return 0;
  },
};

/** The dry run as text (pure): each DHCP exchange, then the script and the kernel command line. */
export function formatExplanation(x: Explanation): string {
  const out = [`${x.mac}: ${x.clientLabel}${x.reservation ? `, reserved ${x.reservation.ip} (${x.reservation.hostname}), profile ${x.reservation.profile}` : ', no reservation'}`];
  x.steps.forEach((s, i) => {
    const r = s.sends;
    out.push(`${i + 1}. DHCP from ${s.client}: option 93 = ${r.arch ?? '-'}, vendor class (60) ${r.vendorClass ?? '-'}, user class (77) ${r.userClass ?? '-'}${r.options.length ? `, options ${r.options.join(',')}` : ''}`);
    for (const t of s.tags) out.push(`     tag ${t.tag}: ${t.why}`);
    out.push(`   answer: ${s.ip}`);
    for (const o of s.options) out.push(`     option ${o.code} (${o.name}) ${o.value}: ${o.why}`);
    out.push(s.bootFile ? `     boot file (67): ${s.bootFile}${s.nextServer ? ` over TFTP from ${s.nextServer}` : ' over HTTP'}` : '     no boot file');
  });
  if (x.script) out.push(`${x.script.loader === 'ipxe' ? 'iPXE script' : 'GRUB config'} ${x.script.path}:`, ...(x.script.text ?? '(none: see the notes)\n').trimEnd().split('\n').map((l) => `   ${l}`));
  if (x.kernelCmdline !== null) out.push(`kernel command line: ${x.kernelCmdline}`);
  for (const n of x.notes) out.push(`note: ${n}`);
  return out.join('\n');
}

const explain: Command = {
  usage: 'pvmlab pxe explain <mac|target> [--firmware bios|uefi] [--http] [--arch x86_64|aarch64] [--json]',
  summary: 'dry run: the DHCP options, boot file, iPXE script or GRUB config and kernel command line this MAC gets',
  async run(argv) {
    const { values, positionals } = parseCommand(argv, { ...json, firmware: { type: 'string' }, http: { type: 'boolean' }, arch: { type: 'string' } }, { min: 1, max: 1, usage: this.usage });
    const fw = values.firmware === undefined ? undefined : firmwareSchema.safeParse(values.firmware);
    if (fw && !fw.success) throw new UsageError(`--firmware: use bios or uefi (got '${values.firmware}')`);
    const ar = values.arch === undefined ? undefined : archSchema.safeParse(values.arch);
    if (ar && !ar.success) throw new UsageError(`--arch: use x86_64 or aarch64 (got '${values.arch}')`);
    const lab = await Lab.open();
    const x = lab.explainBoot(positionals[0], { firmware: fw?.data, http: values.http === true ? true : undefined, arch: ar?.data });
    print(!!values.json, x, () => formatExplanation(x));
    return 0;
  },
};

const pxeVerbs: Record<string, Command> = { reservations, profile, artifacts, leases, catalogue, explain };

export const pxeCommands: Record<string, Command> = {
  pxe: group('pxe', pxeVerbs, 'reservations, boot profiles, artifacts, leases, explain (pvmlab pxe help)'),
};
