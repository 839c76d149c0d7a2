// PXE planners (pure): dnsmasq reservations, lease parsing, per-target iPXE scripts from boot profiles.
import { z } from 'zod';
import { ipv4, mac, vmName } from '../spec.ts';
import { cmdlineProblem, cmdlineSyntaxProblem, grubCmdline, ipxeCmdline } from './cmdline.ts';
import { installKernelProfile, type InstallTarget } from './install.ts';

export const artifactName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'use letters, digits, ".", "_" and "-" (no slashes), up to 128 characters')
  .refine((n) => !n.includes('..'), 'must not contain ".."');

/** Boot profiles: `cmdline` is what the kernel gets after the loader's own words (iPXE: initrd=<name>; GRUB: BOOT_IMAGE=<path>). */
function profileSchema<C extends z.ZodType<string, string | undefined>>(cmdline: C) {
  return z.discriminatedUnion('kind', [
    z.object({
      kind: z.literal('kernel'),
      /** Artifact names served under /artifacts/. */
      kernel: artifactName,
      initrd: artifactName.optional(),
      cmdline,
    }),
    z.object({ kind: z.literal('script'), script: z.string().max(64 * 1024).refine((s) => s.startsWith('#!ipxe'), 'an iPXE script starts with #!ipxe') }),
    z.object({ kind: z.literal('exit') }),
    /** Install to disk (install.ts): the live environment writes this raw disk image (an artifact) onto the target's first disk. */
    z.object({
      kind: z.literal('image'),
      image: artifactName,
      /** sha256 of the image's bytes, checked before a byte reaches the disk. */
      sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256: 64 lowercase hex digits (sha256sum of the image)'),
      /** Only raw images are written; a qcow2 is converted to raw on this host before upload (install.ts). */
      format: z.literal('raw').default('raw'),
    }),
    /** Debian's netboot installer (kernel + initrd artifacts) answered by `preseed` (served by the stack per MAC). */
    z.object({ kind: z.literal('debian-preseed'), kernel: artifactName, initrd: artifactName, preseed: z.string().min(1).max(256 * 1024), cmdline }),
    /** Ubuntu's live-server installer (casper kernel + initrd, the ISO as an artifact) answered by cloud-init autoinstall `userData`. */
    z.object({ kind: z.literal('ubuntu-autoinstall'), kernel: artifactName, initrd: artifactName, iso: artifactName, userData: z.string().min(1).max(256 * 1024).refine((s) => s.startsWith('#cloud-config'), 'autoinstall user-data starts with #cloud-config'), cmdline }),
  ]);
}

/** A kernel command line as input (API, page, lab.yaml): trimmed, and it passes what every loader needs (cmdline.ts). */
export const profileCmdline = z.string().max(2000).transform((s) => s.trim()).superRefine((s, ctx) => {
  const p = cmdlineSyntaxProblem(s);
  if (p) ctx.addIssue({ code: 'custom', message: p });
}).default('');
/** A profile as input (API, page): the cmdline passes what every loader needs (cmdline.ts). */
export const bootProfile = profileSchema(profileCmdline);
/** A profile as stored in configs/pxe.json: read as it is, even one saved before the cmdline was checked (renderers refuse those). */
export const storedBootProfile = profileSchema(z.string().max(2000).default(''));
export type BootProfile = z.infer<typeof storedBootProfile>;
/** A profile as the API and pages send it (before defaults and trimming). */
export type BootProfileInput = z.input<typeof bootProfile>;

export const reservation = z.object({
  mac,
  ip: ipv4,
  hostname: vmName,
  profile: bootProfile.default({ kind: 'exit' }),
});
/** A reservation as stored: its profile is read leniently (storedBootProfile); its IP is checked where it is used. */
export const storedReservation = reservation.extend({
  profile: storedBootProfile.default({ kind: 'exit' }),
  /** Install-to-disk state of an image/installer profile (install.ts); absent for other kinds. */
  install: z.object({
    /** Changes whenever the install is armed again (profile set, re-provision): reports carrying another id are ignored. */
    id: z.string().regex(/^[a-z0-9]{8,32}$/),
    status: z.enum(['pending', 'installed', 'failed']),
    /** When the target reported (ISO 8601, the provisioner's clock), and what it installed from. */
    at: z.string().optional(), from: z.string().optional(), sha256: z.string().optional(), reason: z.string().max(500).optional(),
  }).optional(),
});
export type Reservation = z.infer<typeof storedReservation>;
/** A reservation as the API and pages send it (the profile may be left out: it is kept, or none). */
export type ReservationInput = z.input<typeof reservation>;

/** dnsmasq dhcp-hostsfile: one `MAC,IP,hostname` per line (re-read on SIGHUP). */
export function renderReservations(list: Reservation[]): string {
  return list.map((r) => `${r.mac},${r.ip},${r.hostname}`).join('\n') + (list.length ? '\n' : '');
}

export interface Lease { expires: string | null; mac: string; ip: string; hostname: string | null; clientId: string | null }

/** dnsmasq lease file lines: `<expiry epoch> <mac> <ip> <hostname|*> <client-id|*>`. */
export function parseLeases(text: string): Lease[] {
  const out: Lease[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4 || !/^\d+$/.test(f[0]) || !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(f[1])) continue;
    const exp = Number(f[0]);
    out.push({ expires: exp === 0 ? null : new Date(exp * 1000).toISOString(), mac: f[1].toLowerCase(), ip: f[2],
      hostname: f[3] === '*' ? null : f[3], clientId: !f[4] || f[4] === '*' ? null : f[4] });
  }
  return out;
}

/**
 * The iPXE script served at /ipxe/<mac> for a target. A kernel profile whose cmdline iPXE cannot carry
 * unchanged (cmdline.ts) gets a script that says so and boots nothing (the API refuses such profiles; this
 * guards ones saved before).
 */
export function renderIpxeScript(p: BootProfile, serverIp: string, hostname: string, target?: InstallTarget): string {
  const base = `http://${serverIp}/artifacts`;
  switch (p.kind) {
    case 'kernel':
      if (cmdlineProblem(p.cmdline, 'ipxe')) {
        return ['#!ipxe', `echo pvmlab: not booting ${hostname}: iPXE cannot pass its kernel command line unchanged; fix the boot profile on the PXE page`, 'sleep 10', 'exit 1', ''].join('\n');
      }
      return [
        '#!ipxe',
        `echo pvmlab: booting ${hostname} (\${net0/mac} \${net0/ip})`,
        [`kernel ${base}/${p.kernel}`, ...(p.initrd ? [`initrd=${p.initrd}`] : []), ...(p.cmdline ? [ipxeCmdline(p.cmdline)] : [])].join(' '),
        ...(p.initrd ? [`initrd ${base}/${p.initrd}`] : []),
        'boot',
        '',
      ].join('\n');
    case 'script':
      return p.script.endsWith('\n') ? p.script : p.script + '\n';
    case 'exit':
      return ['#!ipxe', `echo pvmlab: no boot profile for ${hostname}: booting from the local disk`, 'exit', ''].join('\n');
    case 'image': case 'debian-preseed': case 'ubuntu-autoinstall':
      return renderIpxeScript(installKernelProfile(p, { serverIp, hostname, arch: 'x86_64', ...target }), serverIp, hostname);
  }
}

/** The file name nginx serves for a MAC (lowercase, colons). */
export function ipxePathForMac(m: string): string {
  return `ipxe/${m.toLowerCase()}`;
}

/** arm64 UEFI targets boot Debian's GRUB netboot image; it loads this per-MAC config over TFTP (cmdline quoted for GRUB, cmdline.ts). */
export function renderGrubConfig(p: BootProfile, hostname: string, target?: InstallTarget & { serverIp: string }): string {
  const head = ['set timeout=0', `echo "pvmlab: booting ${hostname}"`];
  switch (p.kind) {
    case 'kernel':
      if (cmdlineProblem(p.cmdline, 'grub')) {
        return [...head, `echo "pvmlab: not booting ${hostname}: GRUB cannot pass its kernel command line unchanged; fix the boot profile on the PXE page"`, 'sleep 10', 'exit', ''].join('\n');
      }
      return [...head, [`linux /artifacts/${p.kernel}`, ...(p.cmdline ? [grubCmdline(p.cmdline)] : [])].join(' '), ...(p.initrd ? [`initrd /artifacts/${p.initrd}`] : []), 'boot', ''].join('\n');
    case 'script':
      return [...head, 'echo "pvmlab: custom iPXE scripts need an iPXE client; this arm64 target boots through GRUB"', 'sleep 5', 'exit', ''].join('\n');
    case 'exit':
      return [...head, 'exit', ''].join('\n');
    case 'image': case 'debian-preseed': case 'ubuntu-autoinstall':
      return renderGrubConfig(installKernelProfile(p, { hostname, arch: 'aarch64', serverIp: '0.0.0.0', ...target }), hostname);
  }
}

/** The GRUB config path for a MAC under the TFTP root: grub/grub.cfg-01-<mac with hyphens>. */
export function grubPathForMac(m: string): string {
  return `grub/grub.cfg-01-${m.toLowerCase().replace(/:/g, '-')}`;
}

/** Same profile, whatever the key order. */
export function sameProfile(a: BootProfile | null | undefined, b: BootProfile | null | undefined): boolean {
  const norm = (p: BootProfile | null | undefined) => (!p || p.kind === 'exit' ? 'none' : JSON.stringify(Object.entries(p).filter(([, v]) => v !== undefined).sort(([x], [y]) => x.localeCompare(y))));
  return norm(a) === norm(b);
}
