// Which boot path a target took, read from dnsmasq's `log-dhcp` lines for its MAC: the vendor class (60), user
// class (77) and client arch (in "PXEClient:Arch:00007:…") its firmware sent, and the boot file dnsmasq answered.
// Pure. The line format is dnsmasq's (rfc2131.c log_packet / log_options, `--log-facility=-`):
//   [<syslog time> ]dnsmasq-dhcp[<pid>]: <xid> vendor class: HTTPClient:Arch:00016:UNDI:003000
//   …: <xid> user class: iPXE
//   …: <xid> DHCPOFFER(eth1) 192.168.100.20 52:54:00:12:34:56
//   …: <xid> tags: lab, efi-x64, eth1
//   …: <xid> sent size: 12 option: 67 bootfile-name  snponly.efi      (or `bootfile name: …` in the BOOTP field)
//   …: <xid> next server: 192.168.100.1
// A line may also start with an RFC 3339 time (`docker logs --timestamps`) or epoch seconds (`1795972903.447264 `,
// a time-stamping wrapper's log file); `at` is then ISO.
import type { BootPathId } from './bootrules.ts';

/** One DHCP transaction (one xid) of one client. `kind`: who asked — the firmware's PXE/HTTP client, iPXE, or
 * something else (the booted OS's DHCP client). */
export interface DhcpTransaction {
  xid: string;
  /** The time of its first line, as logged (ISO when the log had an RFC 3339 stamp, else syslog's "Nov 29 17:03:12"). */
  at: string | null;
  mac: string;
  kind: 'firmware' | 'ipxe' | 'other';
  vendorClass: string | null;
  userClass: string | null;
  /** Option 93 as the vendor class spells it (PXEClient:Arch:NNNNN / HTTPClient:Arch:NNNNN). */
  arch: number | null;
  messages: string[];
  ip: string | null;
  tags: string[];
  bootFile: string | null;
  nextServer: string | null;
}

const LINE = /^(?:(\d{4}-\d\d-\d\dT[\d:.]+Z?)\s+)?(?:(\d{9,11}\.\d+)\s+)?(?:([A-Z][a-z]{2}\s+\d+\s+[\d:]{8})\s+)?.*?dnsmasq-dhcp\[\d+\]:\s+(\d+)\s+(.*)$/;

/** Every DHCP transaction in the log that names a MAC, in log order. Lines of other programs are skipped. */
export function parseDhcpLog(text: string): DhcpTransaction[] {
  type Acc = Partial<DhcpTransaction> & { xid: string; messages: string[]; tags: string[] };
  const open = new Map<string, Acc>();
  const all: Acc[] = [];
  for (const raw of text.split('\n')) {
    const m = LINE.exec(raw.trimEnd());
    if (!m) continue;
    const [, iso, epoch, syslog, xid, rest] = m;
    let t = open.get(xid);
    // The same xid after an ACK, starting again: a new transaction (a client reusing its xid on its next boot).
    if (t?.messages.includes('DHCPACK') && /^(vendor class|user class|DHCPDISCOVER)/.test(rest)) t = undefined;
    if (!t) {
      t = { xid, at: iso ?? (epoch ? new Date(Number(epoch) * 1000).toISOString() : syslog) ?? null, messages: [], tags: [] };
      open.set(xid, t);
      all.push(t);
    }
    let f: RegExpExecArray | null;
    if ((f = /^vendor class: (.*)$/.exec(rest))) t.vendorClass = f[1].trim();
    else if ((f = /^user class: (.*)$/.exec(rest))) t.userClass = f[1].trim();
    else if ((f = /^tags: (.*)$/.exec(rest))) t.tags = f[1].split(',').map((x) => x.trim()).filter(Boolean);
    else if ((f = /^sent size:\s*\d+ option:\s*67 bootfile-name\s+(.*)$/.exec(rest)) || (f = /^bootfile name: (.*)$/.exec(rest))) t.bootFile = f[1].trim();
    else if ((f = /^next server: (.*)$/.exec(rest))) t.nextServer = f[1].trim();
    else if ((f = /^(DHCP[A-Z]+)\([^)]*\)\s+(?:([\d.]+)\s+)?([0-9a-f]{2}(?::[0-9a-f]{2}){5})/i.exec(rest))) {
      t.messages.push(f[1]);
      t.mac = f[3].toLowerCase();
      if (f[2]) t.ip = f[2];
    }
  }
  return all.filter((t): t is Acc & { mac: string } => !!t.mac).map((t) => {
    const vc = t.vendorClass ?? null;
    const uc = t.userClass ?? null;
    const arch = vc ? /^(?:PXEClient|HTTPClient):Arch:(\d{5})/.exec(vc) : null;
    const kind = uc?.includes('iPXE') || t.tags.includes('ipxe') ? 'ipxe' as const : vc && /^(PXEClient|HTTPClient)/.test(vc) ? 'firmware' as const : 'other' as const;
    return { xid: t.xid, at: t.at ?? null, mac: t.mac, kind, vendorClass: vc, userClass: uc, arch: arch ? Number(arch[1]) : null, messages: t.messages,
      ip: t.ip ?? null, tags: t.tags, bootFile: t.bootFile ?? null, nextServer: t.nextServer ?? null };
  });
}

const LABELS: Record<BootPathId, string> = {
  ipxe: 'iPXE in the NIC ROM', 'bios-pxe': 'BIOS PXE', 'uefi-pxe': 'UEFI PXE', 'uefi-http': 'UEFI HTTP Boot', 'arm64-uefi-pxe': 'arm64 UEFI PXE (GRUB)',
};

/** The path of a target's last network boot, as the VM page and `vm list --json` show it. */
export interface BootPath {
  path: BootPathId | 'unknown';
  label: string;
  at: string | null;
  /** How the first boot file went out: TFTP (an NBP name + next server) or HTTP (a URL). */
  transport: 'tftp' | 'http' | null;
  /** The first boot file (the NBP, or boot.ipxe when iPXE was in ROM), then what iPXE got. */
  bootFile: string | null;
  ipxeBootFile: string | null;
  vendorClass: string | null;
  arch: number | null;
}

function pathOf(t: DhcpTransaction): BootPathId | 'unknown' {
  if (t.kind === 'ipxe') return 'ipxe';
  if (t.vendorClass?.startsWith('HTTPClient')) return t.arch === 16 ? 'uefi-http' : 'unknown';
  if (t.arch === 0) return 'bios-pxe';
  if (t.arch === 7 || t.arch === 9) return 'uefi-pxe';
  if (t.arch === 11) return 'arm64-uefi-pxe';
  return 'unknown';
}

/**
 * The boot path of the last network boot of `mac` in the log: the last transaction of the firmware's own client
 * (PXEClient/HTTPClient), followed by the iPXE it loaded; when only iPXE ever asked, iPXE was in the NIC's ROM. Transactions of the booted OS are ignored. Null when the
 * log has none for this MAC.
 */
export function bootPathFor(log: string | DhcpTransaction[], mac: string): BootPath | null {
  const all = (typeof log === 'string' ? parseDhcpLog(log) : log).filter((t) => t.mac === mac.toLowerCase() && t.kind !== 'other');
  if (!all.length) return null;
  const lastFw = all.map((t) => t.kind).lastIndexOf('firmware');
  // No firmware transaction: iPXE was in the NIC's ROM (QEMU's NIC under SeaBIOS); else the firmware's last one and the iPXE it loaded.
  const first = lastFw < 0 ? all.at(-1)! : all[lastFw];
  const next = lastFw < 0 ? null : all.slice(lastFw + 1).find((t) => t.kind === 'ipxe') ?? null;
  const path = pathOf(first);
  const file = first.bootFile;
  return {
    path, label: path === 'unknown' ? `unknown client (${first.vendorClass ?? 'no vendor class'})` : LABELS[path], at: first.at,
    transport: file ? (/^https?:\/\//.test(file) ? 'http' : 'tftp') : null, bootFile: file, ipxeBootFile: next?.bootFile ?? null,
    vendorClass: first.vendorClass, arch: first.arch,
  };
}
