// Parsing the pxeboot stack's dnsmasq log (/pxe/log/dnsmasq.log): dnsmasq's own stderr lines (log-dhcp on),
// each prefixed by stamp-log.sh with the provisioner's time in seconds since the epoch (µs). Examples, from a
// real run (dnsmasq 2.89, see dnsmasq.test.ts):
//   1795972467.494473 dnsmasq-dhcp[9]: 1585718562 DHCPDISCOVER(eth1) 52:54:00:6e:1a:2c
//   1795972467.494598 dnsmasq-dhcp[9]: 1585718562 user class: iPXE
//   1795972467.495104 dnsmasq-dhcp[9]: 1585718562 DHCPACK(eth1) 192.168.100.2 52:54:00:6e:1a:2c target1
//   1795972467.595104 dnsmasq-tftp[9]: sent /pxe/tftp/undionly.kpxe to 192.168.100.2
// The number after "dnsmasq-dhcp:" is the transaction's xid: every line of one packet exchange carries it.

/** A DHCP message dnsmasq saw or sent, with what log-dhcp said about its transaction. Times: ms since the epoch (provisioner clock). */
export interface DhcpMessage {
  at: number;
  xid: string;
  /** DISCOVER, OFFER, REQUEST, ACK, NAK, INFORM, RELEASE, DECLINE */
  type: string;
  iface: string;
  mac: string;
  ip: string | null;
  /** what follows the MAC: the hostname on an ACK, the reason on a NAK or an ignored DISCOVER ("no address available") */
  note: string | null;
  /** from the transaction's other lines (the same xid), as far as logged before this message's end */
  vendorClass: string | null;
  userClass: string | null;
  tags: string[];
  bootfile: string | null;
}

/** A TFTP transfer dnsmasq finished or refused. */
export interface TftpTransfer { at: number; ip: string; file: string; ok: boolean; error: string | null }

export interface DnsmasqEvents { dhcp: DhcpMessage[]; tftp: TftpTransfer[] }

const LINE = /^(\d+(?:\.\d+)?) dnsmasq(?:-(dhcp|tftp))?(?:\[\d+\])?: (.*)$/;
const DHCP = /^(\d+) DHCP([A-Z]+)\(([^)]+)\) (?:(\d+\.\d+\.\d+\.\d+) )?([0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5})(?: (.*))?$/;
const INFO = /^(\d+) (vendor class|user class|tags|bootfile name): (.*)$/;
/** log-dhcp's line for the boot file option it sent: "sent size: 31 option: 67 bootfile-name  http://…" */
const OPT67 = /^(\d+) sent size:\s*\d+ option:\s*67 bootfile-name\s+(\S+)/;

/**
 * Parse dnsmasq.log text into DHCP messages (with their transaction's vendor/user class, tags and boot file)
 * and TFTP transfers, in log order. Lines that are not dnsmasq's (or not about DHCP/TFTP) are skipped.
 */
export function parseDnsmasqLog(text: string): DnsmasqEvents {
  const dhcp: DhcpMessage[] = [];
  const tftp: TftpTransfer[] = [];
  const info = new Map<string, { vendorClass: string | null; userClass: string | null; tags: string[]; bootfile: string | null }>();
  const infoOf = (xid: string) => {
    let i = info.get(xid);
    if (!i) { i = { vendorClass: null, userClass: null, tags: [], bootfile: null }; info.set(xid, i); }
    return i;
  };
  const open = new Map<string, DhcpMessage[]>(); // xid → messages whose transaction info may still come
  for (const raw of text.split('\n')) {
    const m = LINE.exec(raw.trimEnd());
    if (!m) continue;
    const at = Math.round(Number(m[1]) * 1000);
    const facility = m[2];
    const body = m[3];
    if (facility === 'tftp') {
      const sent = /^sent (\S+) to (\S+)$/.exec(body);
      if (sent) { tftp.push({ at, file: sent[1], ip: sent[2], ok: true, error: null }); continue; }
      const nf = /^file (\S+) not found for (\S+)$/.exec(body);
      const err = /^error (\d+) (.*) received from (\S+)$/.exec(body);
      if (nf) tftp.push({ at, file: nf[1], ip: nf[2], ok: false, error: 'not found' });
      else if (err) tftp.push({ at, file: '', ip: err[3], ok: false, error: `error ${err[1]} ${err[2]}` });
      continue;
    }
    if (facility !== 'dhcp') continue;
    const d = DHCP.exec(body);
    if (d) {
      const i = infoOf(d[1]);
      const msg: DhcpMessage = {
        at, xid: d[1], type: d[2], iface: d[3], ip: d[4] ?? null, mac: d[5].toLowerCase(), note: d[6]?.trim() || null,
        vendorClass: i.vendorClass, userClass: i.userClass, tags: [...i.tags], bootfile: i.bootfile,
      };
      dhcp.push(msg);
      open.set(d[1], [...(open.get(d[1]) ?? []), msg]);
      continue;
    }
    const o = OPT67.exec(body);
    const n = o ? ([body, o[1], 'bootfile name', o[2]] as const) : INFO.exec(body);
    if (!n) continue;
    const i = infoOf(n[1]);
    const value = n[3].trim();
    if (n[2] === 'vendor class') i.vendorClass = value;
    else if (n[2] === 'user class') i.userClass = value;
    else if (n[2] === 'tags') i.tags = value.split(/,\s*/).filter(Boolean);
    else i.bootfile = value;
    // log-dhcp prints the tags and boot file after the DISCOVER/REQUEST line they belong to: fill them in
    for (const msg of open.get(n[1]) ?? []) {
      msg.vendorClass ??= i.vendorClass;
      msg.userClass ??= i.userClass;
      if (n[2] === 'tags' && (msg.type === 'DISCOVER' || msg.type === 'REQUEST') && !msg.tags.length) msg.tags = [...i.tags];
      if (n[2] === 'bootfile name' && (msg.type === 'OFFER' || msg.type === 'ACK')) msg.bootfile ??= value;
    }
  }
  return { dhcp, tftp };
}

/** One DHCP exchange of a client: DISCOVER (or a bare REQUEST) up to its ACK or NAK. */
export interface DhcpRound {
  start: number;
  /** the ACK's or NAK's time; null while unanswered */
  end: number | null;
  messages: DhcpMessage[];
  /** who asked, from DHCP option 77 / 60: "iPXE", "BIOS PXE", "UEFI PXE", "arm64 UEFI PXE", "UEFI HTTP Boot", else "OS" */
  client: string;
  ip: string | null;
  bootfile: string | null;
  acked: boolean;
  nak: string | null;
}

/** The client kind of a DHCP request: user class iPXE wins, then the PXE/HTTP vendor class (arch = option 93), else "OS". */
export function dhcpClient(userClass: string | null, vendorClass: string | null): string {
  if (userClass === 'iPXE') return 'iPXE';
  const v = vendorClass ?? '';
  if (v.startsWith('HTTPClient')) return 'UEFI HTTP Boot';
  const arch = /^PXEClient:Arch:(\d{5})/.exec(v)?.[1];
  if (arch === '00000') return 'BIOS PXE';
  if (arch === '00006' || arch === '00007' || arch === '00009') return 'UEFI PXE';
  if (arch === '00011') return 'arm64 UEFI PXE';
  return 'OS';
}

/** Group one client's DHCP messages (in time order) into exchanges. Pure. */
export function dhcpRounds(messages: DhcpMessage[]): DhcpRound[] {
  const out: DhcpRound[] = [];
  let cur: DhcpRound | null = null;
  for (const m of messages) {
    if (!cur || m.type === 'DISCOVER' || (m.type === 'REQUEST' && cur.end !== null)) {
      cur = { start: m.at, end: null, messages: [], client: 'OS', ip: null, bootfile: null, acked: false, nak: null };
      out.push(cur);
    }
    cur.messages.push(m);
    if (m.type === 'DISCOVER' || m.type === 'REQUEST') cur.client = dhcpClient(m.userClass, m.vendorClass);
    if (m.type === 'OFFER' || m.type === 'ACK') { cur.ip = m.ip ?? cur.ip; cur.bootfile = m.bootfile ?? cur.bootfile; }
    if (m.type === 'ACK') { cur.end = m.at; cur.acked = true; }
    if (m.type === 'NAK') { cur.end = m.at; cur.nak = m.note ?? 'refused'; }
  }
  return out;
}
