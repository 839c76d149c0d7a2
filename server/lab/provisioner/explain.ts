// Profile dry-run: "what will this MAC get?" — every DHCP exchange of its network boot with the tags the stack's
// rules set (bootrules.ts, the table dnsmasq is configured from), the options and boot file answered, what is
// fetched over TFTP or HTTP, and the iPXE script or GRUB config and kernel command line its reservation's
// profile renders to. Pure.
import { answerFor, DEFAULT_EFI_X64_BOOTFILE, tagsFor, type BootPathId, type ClientRequest, type OptionRule } from './bootrules.ts';
import { grubPathForMac, ipxePathForMac, renderGrubConfig, renderIpxeScript, type Reservation } from './pxe.ts';

/** The network-boot clients a target can be: what its firmware (or the iPXE it loaded) sends. */
export type BootClient = 'ipxe-rom' | 'bios-pxe' | 'uefi-pxe' | 'uefi-http' | 'arm64-uefi-pxe' | 'arm64-uefi-http';

/** Each client's DISCOVER as seen in dnsmasq's log-dhcp lines (OVMF 2022.11, iPXE 1.0.0+git-20190125, AAVMF). */
export const CLIENTS: Record<BootClient, { label: string; request: ClientRequest }> = {
  'ipxe-rom': { label: 'iPXE in the NIC ROM (QEMU\'s NIC under SeaBIOS)', request: { arch: 0, vendorClass: 'PXEClient:Arch:00000:UNDI:002001', userClass: 'iPXE', options: [175] } },
  'bios-pxe': { label: 'BIOS PXE ROM', request: { arch: 0, vendorClass: 'PXEClient:Arch:00000:UNDI:002001', userClass: null, options: [] } },
  'uefi-pxe': { label: 'UEFI PXE (OVMF)', request: { arch: 7, vendorClass: 'PXEClient:Arch:00007:UNDI:003000', userClass: null, options: [] } },
  'uefi-http': { label: 'UEFI HTTP Boot (OVMF)', request: { arch: 16, vendorClass: 'HTTPClient:Arch:00016:UNDI:003000', userClass: null, options: [] } },
  'arm64-uefi-pxe': { label: 'arm64 UEFI PXE (AAVMF)', request: { arch: 11, vendorClass: 'PXEClient:Arch:00011:UNDI:003000', userClass: null, options: [] } },
  'arm64-uefi-http': { label: 'arm64 UEFI HTTP Boot', request: { arch: 19, vendorClass: 'HTTPClient:Arch:00019:UNDI:003000', userClass: null, options: [] } },
};

/** The iPXE an NBP starts asks again, as iPXE: BIOS iPXE with arch 0, EFI iPXE with arch 7 (its vendor class says UNDI 3.10). */
const IPXE_AFTER: Record<'bios' | 'efi', ClientRequest> = {
  bios: { arch: 0, vendorClass: 'PXEClient:Arch:00000:UNDI:002001', userClass: 'iPXE', options: [175] },
  efi: { arch: 7, vendorClass: 'PXEClient:Arch:00007:UNDI:003010', userClass: 'iPXE', options: [175] },
};

/** Which client a lab VM is: SeaBIOS boots the iPXE in QEMU's NIC ROM; OVMF (no NIC ROM, qemu/plan.ts) does its own PXE or HTTP Boot. */
export function clientFor(v: { arch: 'x86_64' | 'aarch64'; firmware: 'bios' | 'uefi'; netboot: 'pxe' | 'http'; romIsIpxe?: boolean }): BootClient {
  if (v.arch === 'aarch64') return v.netboot === 'http' ? 'arm64-uefi-http' : 'arm64-uefi-pxe';
  if (v.firmware === 'bios') return v.romIsIpxe === false ? 'bios-pxe' : 'ipxe-rom';
  return v.netboot === 'http' ? 'uefi-http' : 'uefi-pxe';
}

export interface DhcpStep {
  /** Who asks: the firmware, or the iPXE it loaded. */
  client: string;
  sends: ClientRequest;
  /** Tags the rules set, each with the reason. */
  tags: { tag: string; why: string }[];
  /** The address: the reservation's, or one from the dynamic range. */
  ip: string;
  path: BootPathId | null;
  /** Option 67 / the BOOTP file field; null = an address but nothing to boot. */
  bootFile: string | null;
  /** TFTP boot files: the server they come from (next-server / option 66). */
  nextServer: string | null;
  transport: 'tftp' | 'http' | null;
  options: Pick<OptionRule, 'code' | 'name' | 'value' | 'why'>[];
}

export interface Explanation {
  mac: string;
  client: BootClient;
  clientLabel: string;
  reservation: { ip: string; hostname: string; profile: Reservation['profile']['kind'] } | null;
  steps: DhcpStep[];
  /** What the last step's boot file runs: the per-MAC iPXE script or GRUB config (path on the stack and text). */
  script: { loader: 'ipxe' | 'grub'; path: string; text: string | null } | null;
  /** What the kernel receives as its command line (kernel profiles), as the loader builds it. */
  kernelCmdline: string | null;
  notes: string[];
}

export interface ExplainInput {
  mac: string;
  client: BootClient;
  serverIp: string;
  reservation: Reservation | null;
  efiX64BootFile?: string;
}

function step(who: string, sends: ClientRequest, ip: string, p: { server: string; efiX64: string }): DhcpStep {
  const { tags, because } = tagsFor(sends);
  const { rule, options } = answerFor(tags);
  return {
    client: who, sends, tags: because.map((b) => ({ tag: b.tag, why: b.why })), ip, path: rule?.path ?? null,
    bootFile: rule ? rule.file(p) : null, nextServer: rule?.transport === 'tftp' ? p.server : null, transport: rule?.transport ?? null,
    options: options.map(({ code, name, value, why }) => ({ code, name, value, why })),
  };
}

/** The dry run for one MAC and client kind. At most two DHCP exchanges (firmware, then iPXE): the rules never loop. */
export function explainBoot(x: ExplainInput): Explanation {
  const p = { server: x.serverIp, efiX64: x.efiX64BootFile ?? DEFAULT_EFI_X64_BOOTFILE };
  const res = x.reservation;
  const ip = res ? `${res.ip} (reserved)` : 'an address from the dynamic range (no reservation)';
  const notes: string[] = [];
  const c = CLIENTS[x.client];
  const steps = [step(c.label, c.request, ip, p)];
  const first = steps[0];
  const rule = first.path;
  if (rule === 'bios-pxe' || rule === 'uefi-pxe' || rule === 'uefi-http') {
    steps.push(step(`iPXE (${first.bootFile!.split('/').pop()}, loaded over ${first.transport!.toUpperCase()})`, IPXE_AFTER[rule === 'bios-pxe' ? 'bios' : 'efi'], ip, p));
  }
  const last = steps[steps.length - 1];
  let script: Explanation['script'] = null;
  let kernelCmdline: string | null = null;
  const hostname = res?.hostname ?? 'this target';
  if (last.path === 'ipxe') {
    script = { loader: 'ipxe', path: `http://${x.serverIp}/${ipxePathForMac(x.mac)}`, text: res ? renderIpxeScript(res.profile, x.serverIp, hostname) : null };
    if (!res) notes.push(`no reservation for ${x.mac}: boot.ipxe finds no /${ipxePathForMac(x.mac)} and chains /ipxe/default`);
    if (res?.profile.kind === 'kernel') kernelCmdline = [res.profile.kernel, ...(res.profile.initrd ? [`initrd=${res.profile.initrd}`] : []), ...(res.profile.cmdline ? [res.profile.cmdline] : [])].join(' ');
  } else if (last.path === 'arm64-uefi-pxe') {
    script = { loader: 'grub', path: `tftp://${x.serverIp}/${grubPathForMac(x.mac)}`, text: res ? renderGrubConfig(res.profile, hostname) : null };
    if (!res) notes.push(`no reservation for ${x.mac}: grub.cfg finds no ${grubPathForMac(x.mac)}, tries grub.cfg-default, else leaves network boot`);
    if (res?.profile.kind === 'kernel') kernelCmdline = [`BOOT_IMAGE=/artifacts/${res.profile.kernel}`, ...(res.profile.cmdline ? [res.profile.cmdline] : [])].join(' ');
  } else {
    notes.push(x.client === 'arm64-uefi-http'
      ? 'arm64 UEFI HTTP Boot gets an address but no boot file: Debian has no arm64 iPXE and its GRUB cannot load over HTTP; the firmware moves on to its next boot entry (use PXE)'
      : 'no boot rule matches this client: it gets an address but no boot file');
  }
  if (res?.profile.kind === 'exit') notes.push('profile "exit": the loader leaves network boot and the firmware boots the next device (the disk)');
  if (res?.profile.kind === 'script') notes.push('profile "script": your own iPXE script, served as it is');
  return { mac: x.mac, client: x.client, clientLabel: c.label, reservation: res ? { ip: res.ip, hostname: res.hostname, profile: res.profile.kind } : null, steps, script, kernelCmdline, notes };
}
