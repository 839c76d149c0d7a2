// zod schemas for every input that names, addresses or sizes something in the lab.
import { z } from 'zod';
import { accelMode } from './accel/choose.ts';

export const NAME_RE = /^[a-z][a-z0-9-]{0,31}$/;
export const vmName = z.string().regex(NAME_RE, 'use 1–32 characters: a lowercase letter first, then lowercase letters, digits or "-"');

/** The VM name after a path prefix (`/ws/serial/<vm>`, `/api/logs/<vm>`), or an error for people. Never throws. */
export function vmNameAfter(pathname: string, prefix: string): { name: string } | { error: string } {
  let raw: string;
  try { raw = decodeURIComponent(pathname.slice(prefix.length)); } catch { return { error: 'bad VM name: malformed %-escape in the path' }; }
  const r = vmName.safeParse(raw);
  return r.success ? { name: r.data } : { error: `bad VM name: ${r.error.issues[0].message}` };
}

/** Snapshot names: like VM names (`pvmlab-…` names are pvmlab's own: the provisioner's ready snapshot). */
export const snapshotName = z.string().regex(NAME_RE, 'snapshot names use 1–32 characters: a lowercase letter first, then lowercase letters, digits or "-"');

export const role = z.enum(['provisioner', 'target']);
export const arch = z.enum(['aarch64', 'x86_64']);
export const bootMode = z.enum(['disk', 'pxe', 'kernel']);
export type Role = z.infer<typeof role>;
export type Arch = z.infer<typeof arch>;
export type BootMode = z.infer<typeof bootMode>;
/** The x86_64 firmware: SeaBIOS (`bios`, the default) or OVMF (`uefi`). aarch64 VMs are always UEFI (AAVMF). */
export const firmware = z.enum(['bios', 'uefi']);
export type Firmware = z.infer<typeof firmware>;
/** How a UEFI PXE target network-boots: `pxe` = the firmware's PXE (DHCP option 93 = 7, NBP over TFTP);
 * `http` = UEFI HTTP Boot (option 93 = 16, vendor class HTTPClient, the NBP as an http:// URL, no TFTP). */
export const netboot = z.enum(['pxe', 'http']);
export type Netboot = z.infer<typeof netboot>;

/** The host's own architecture in QEMU's words (aarch64 on Apple silicon and arm64 Linux, else x86_64): new VMs default to it. */
export function hostArch(nodeArch: string | undefined = typeof process === 'undefined' ? undefined : process.arch): Arch {
  return nodeArch === 'arm64' ? 'aarch64' : 'x86_64';
}

/** Lowercase colon form; input may use '-' and upper case. */
export const mac = z.string().trim().toLowerCase().transform((s) => s.replace(/-/g, ':'))
  .pipe(z.string().regex(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/, 'use six hex pairs, e.g. 52:54:00:12:34:56'))
  .refine((m) => (parseInt(m.slice(0, 2), 16) & 1) === 0, 'must be a unicast MAC (the first byte must be even)');

export const localMac = mac.refine((m) => (parseInt(m.slice(0, 2), 16) & 2) === 2,
  'must be locally administered (the first byte has bit 0x02 set, e.g. 02:… or 52:54:00:…)');

export function ipToInt(ip: string): number {
  return ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
}
export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}
export const ipv4 = z.string().trim().regex(/^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/, 'use a dotted IPv4 address, e.g. 192.168.100.10');
export const cidr = z.string().trim().regex(/^\d+\.\d+\.\d+\.\d+\/\d+$/, 'use CIDR form, e.g. 192.168.100.0/24')
  .refine((c) => ipv4.safeParse(c.split('/')[0]).success && Number(c.split('/')[1]) >= 8 && Number(c.split('/')[1]) <= 30, 'address must be IPv4 and the prefix 8–30');

export function cidrInfo(c: string) {
  const [base, p] = c.split('/');
  const prefix = Number(p);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const network = (ipToInt(base) & mask) >>> 0;
  const broadcast = (network | (~mask >>> 0)) >>> 0;
  return { network, broadcast, prefix, mask };
}
export function inSubnet(ip: string, c: string): boolean {
  const { network, broadcast } = cidrInfo(c);
  const n = ipToInt(ip);
  return n > network && n < broadcast;
}

/** Sizes: "512M", "2G", "1024" (MiB). Returned in MiB. */
export function sizeMiB(field: string, min: number, max: number) {
  return z.union([z.number(), z.string()]).transform((v, ctx) => {
    const m = /^\s*(\d+)\s*([MG]i?B?)?\s*$/i.exec(String(v));
    if (!m) { ctx.addIssue({ code: 'custom', message: `${field}: use a size like 512M or 2G` }); return z.NEVER; }
    const n = Number(m[1]) * (m[2]?.toUpperCase().startsWith('G') ? 1024 : 1);
    if (n < min || n > max) { ctx.addIssue({ code: 'custom', message: `${field}: must be between ${min} MiB and ${max / 1024} GiB` }); return z.NEVER; }
    return n;
  });
}

/** A host file path given by the user (image, kernel, initrd): absolute, no NUL, no newline. */
export const hostPath = z.string().min(1).max(4096)
  .refine((p) => p.startsWith('/'), 'use an absolute path')
  .refine((p) => !/[\0\n\r]/.test(p), 'must not contain control characters');

export const imageRef = z.string().min(1).max(4096);

export const vmCreateInput = z.object({
  name: vmName,
  role: role.default('target'),
  arch: arch.default(() => hostArch()),
  cpus: z.coerce.number({ error: 'cpus: a whole number, e.g. 2' }).int('cpus: a whole number').min(1, 'cpus: at least 1').max(16, 'cpus: at most 16').default(1),
  memory: sizeMiB('memory', 128, 65536).default(1024),
  diskSize: sizeMiB('diskSize', 256, 1024 * 1024).default(10240),
  boot: bootMode.optional(),
  image: imageRef.optional(),
  kernel: hostPath.optional(),
  initrd: hostPath.optional(),
  append: z.string().max(2000, 'append: at most 2000 characters').refine((s) => !/[\0\n\r]/.test(s), 'append: no control characters').optional(),
  mac: localMac.optional(),
  ip: ipv4.optional(),
  /** Left out: root for a PXE target (the default boot profile's live system has only root), pvmlab otherwise (cloud-init makes it). */
  sshUser: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'a Unix user name').optional(),
  /** auto (default) = the doctor's probe; kvm / hvf / tcg force one for this VM. */
  accel: accelMode.optional(),
  /** x86_64: bios (default) or uefi; aarch64: uefi only. */
  firmware: firmware.optional(),
  /** UEFI Secure Boot (x86_64 uefi only; needs the host's secure-boot OVMF build). Off by default. */
  secureBoot: z.boolean().optional(),
  /** PXE targets with UEFI firmware: pxe (default) or http (UEFI HTTP Boot). */
  netboot: netboot.optional(),
}).strict().superRefine((v, ctx) => {
  const boot = v.boot ?? (v.kernel ? 'kernel' : 'disk');
  const fw = v.firmware ?? (v.arch === 'aarch64' ? 'uefi' : 'bios');
  if (v.arch === 'aarch64' && v.firmware === 'bios') ctx.addIssue({ code: 'custom', path: ['firmware'], message: 'aarch64 VMs always boot UEFI: leave firmware out or use --firmware uefi' });
  if (v.secureBoot && (fw !== 'uefi' || v.arch !== 'x86_64')) ctx.addIssue({ code: 'custom', path: ['secureBoot'], message: 'Secure Boot needs an x86_64 VM with --firmware uefi' });
  if (v.netboot === 'http') {
    if (boot !== 'pxe') ctx.addIssue({ code: 'custom', path: ['netboot'], message: 'netboot http is a way to PXE-boot: it needs --boot pxe' });
    else if (v.arch === 'aarch64') ctx.addIssue({ code: 'custom', path: ['netboot'], message: 'UEFI HTTP Boot is offered for x86_64 targets only (the arm64 path is GRUB over TFTP): use netboot pxe' });
    else if (fw !== 'uefi') ctx.addIssue({ code: 'custom', path: ['netboot'], message: 'UEFI HTTP Boot needs UEFI firmware: add --firmware uefi' });
  }
  if (boot === 'kernel' && !v.kernel) ctx.addIssue({ code: 'custom', path: ['kernel'], message: 'kernel boot needs --kernel (a path to a kernel image)' });
  if (boot !== 'kernel' && (v.kernel || v.initrd || v.append)) ctx.addIssue({ code: 'custom', path: ['boot'], message: '--kernel/--initrd/--append need --boot kernel' });
  if (boot === 'disk' && !v.image) ctx.addIssue({ code: 'custom', path: ['image'], message: 'disk boot needs an image (a catalogue name such as ubuntu-24.04, or a path to a qcow2/raw file)' });
  if (boot === 'pxe' && v.role === 'provisioner') ctx.addIssue({ code: 'custom', path: ['boot'], message: 'the provisioner cannot PXE-boot (it is the PXE server)' });
});
export type VmCreateInput = z.input<typeof vmCreateInput>;

export const vmRecord = z.object({
  version: z.literal(1),
  name: vmName,
  role,
  arch,
  cpus: z.number().int(),
  memoryMiB: z.number().int(),
  diskSizeMiB: z.number().int(),
  boot: bootMode,
  /** Absolute path of the base image on the host (after catalogue resolution), if any. */
  image: z.string().nullable(),
  kernel: z.string().nullable(),
  initrd: z.string().nullable(),
  append: z.string().nullable(),
  mac: z.string(),
  /** Provisioner uplink NIC MAC (user-mode). */
  uplinkMac: z.string().nullable(),
  ip: z.string().nullable(),
  sshPort: z.number().int().nullable(),
  sshUser: z.string(),
  createdAt: z.string(),
  /** This VM's accelerator override (null or auto: the lab's choice). */
  accel: accelMode.nullable().default(null),
  /** Firmware, Secure Boot and network-boot protocol; absent in records made before they existed (= bios, off,
   * pxe on x86_64; aarch64 is always uefi). Read them through firmware.ts vmBootFirmware. */
  firmware: firmware.optional(),
  secureBoot: z.boolean().optional(),
  netboot: netboot.optional(),
  /** Set when QEMU was found dead without a clean stop. */
  crash: z.object({ at: z.string(), logTail: z.string() }).nullable().default(null),
});
export type VmRecord = z.infer<typeof vmRecord>;

export const VM_STATUSES = ['stopped', 'starting', 'running', 'paused', 'stopping', 'crashed'] as const;
export type VmStatus = (typeof VM_STATUSES)[number];
