// One boot's timeline from its sources: the target's DHCP messages, TFTP and HTTP transfers and call-homes
// (already on the host clock), and its console milestones — as stages on one axis (ms since power-on), the raw
// events, and the diagnosis. Pure: recorder.ts gathers the sources, this puts them in order.
import { queryValue } from '../nginx-json.ts';
import type { Milestone } from './console.ts';
import { diagnose, kernelFetch } from './diagnose.ts';
import { dhcpRounds, type DhcpMessage, type DhcpRound, type TftpTransfer } from './dnsmasq.ts';
import type { CallHome, HttpFetch } from './nginx.ts';
import type { StageId, Timeline, TimelineEvent, TimelineStage } from './types.ts';

export interface BootSources {
  vm: string;
  mac: string;
  /** the target's reserved or leased IP (transfers from the IPs its DHCP ACKs gave count too) */
  ip: string | null;
  poweredOnAt: number;
  bootKind: Timeline['bootKind'];
  boot: number;
  boots: number;
  /** the next boot's power-on (ms since the epoch), null for the last boot */
  until: number | null;
  milestones: Milestone[];
  dhcp: DhcpMessage[];
  tftp: TftpTransfer[];
  http: HttpFetch[];
  callhome: CallHome[];
  kernel: string | null;
  initrd: string | null;
  /** boots over the network (PXE target); false: kernel or disk boot */
  network?: boolean;
  running: boolean;
  now: number;
  clock: Timeline['clock'];
}

/** Slack before power-on for events on the provisioner's clock (its offset is measured, not exact). */
const SLACK_MS = 1500;
const LABELS: Record<StageId, string> = {
  firmware: 'firmware', dhcp: 'DHCP', nbp: 'NBP (network boot program)', 'dhcp-ipxe': 'DHCP (iPXE)', script: 'boot script',
  'kernel-fetch': 'kernel download', 'initrd-fetch': 'initrd download', 'kernel-start': 'kernel load', kernel: 'kernel boot',
  userspace: 'userspace', callhome: 'call home',
};
/** A path's last part for people: the query dropped, percent-escapes decoded (iPXE asks for /ipxe/52%3A54%3A…). */
const base = (s: string) => queryValue(s.split('?')[0].split('/').pop() ?? s);
const kb = (n: number) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${Math.max(1, Math.round(n / 1024))} KiB`);
const rate = (bytes: number, ms: number) => (ms > 0 ? `, ${(bytes / (1 << 20) / (ms / 1000)).toFixed(1)} MiB/s` : '');

/** The path a boot took, from its first DHCP exchange and what it fetched. */
export function bootPath(rounds: DhcpRound[], tftp: TftpTransfer[]): string | null {
  const first = rounds[0];
  if (!first) return null;
  if (first.client === 'iPXE') return 'ipxe-rom';
  if (first.client === 'UEFI HTTP Boot') return 'uefi-http';
  if (tftp.some((t) => /grub/.test(t.file))) return 'grub';
  if (first.client === 'BIOS PXE') return 'bios-pxe';
  if (first.client === 'UEFI PXE' || first.client === 'arm64 UEFI PXE') return 'uefi-pxe';
  return null;
}

/** Assemble one boot's timeline. Pure. */
export function assembleTimeline(s: BootSources): Timeline {
  const from = s.poweredOnAt - SLACK_MS;
  const to = s.until ?? Number.POSITIVE_INFINITY;
  const inWindow = (t: number) => t >= from && t < to;
  const dhcp = s.dhcp.filter((m) => m.mac === s.mac && inWindow(m.at));
  const ips = new Set([s.ip, ...dhcp.map((m) => (m.type === 'ACK' || m.type === 'OFFER' ? m.ip : null))].filter((x): x is string => !!x));
  const tftp = s.tftp.filter((t) => ips.has(t.ip) && inWindow(t.at));
  const http = s.http.filter((h) => ips.has(h.ip) && inWindow(h.start));
  const callhome = s.callhome.filter((c) => (c.mac === s.mac || ips.has(c.remote)) && inWindow(c.at));
  const rounds = dhcpRounds(dhcp);
  const rel = (t: number) => Math.max(0, t - s.poweredOnAt);
  const ms = s.milestones;
  const at = (k: Milestone['kind']) => ms.find((m) => m.kind === k && m.at !== null)?.at ?? null;

  // ---- raw events
  const events: TimelineEvent[] = [{ t: 0, source: 'vm', label: s.bootKind, detail: new Date(s.poweredOnAt).toISOString() }];
  for (const m of dhcp) events.push({ t: rel(m.at), source: 'dhcp', label: `DHCP${m.type}`, bad: m.type === 'NAK',
    detail: [m.ip, m.note, m.userClass && `user class ${m.userClass}`, m.vendorClass && `vendor class ${m.vendorClass}`, m.bootfile && `boot file ${m.bootfile}`, `xid ${m.xid}`].filter(Boolean).join(', ') });
  for (const t of tftp) events.push({ t: rel(t.at), source: 'tftp', label: t.ok ? `sent ${base(t.file)}` : 'TFTP error', detail: t.ok ? t.file : `${t.error} ${t.file}`.trim(), bad: !t.ok });
  for (const h of http) events.push({ t: rel(h.start), dur: h.end - h.start, source: 'http', label: `${h.method} ${h.uri}`, bad: h.status >= 400 || !h.complete,
    detail: `${h.status}, ${kb(h.bytes)}${h.length !== null && h.bytes < h.length ? ` of ${kb(h.length)}` : ''}${rate(h.bytes, h.end - h.start)}` });
  for (const m of ms) if (m.at !== null && m.kind !== 'power-on' && m.kind !== 'resume') events.push({ t: rel(m.at), source: 'console', label: m.kind, detail: m.text, bad: m.kind === 'panic' || m.kind === 'ipxe-fail' || m.ok === false });
  for (const c of callhome) events.push({ t: rel(c.at), source: 'callhome', label: 'call home', detail: `${c.host} ${c.status}`.trim() });
  events.sort((a, b) => a.t - b.t);

  // ---- stages
  const stages: TimelineStage[] = [];
  const add = (id: StageId, start: number | null, end: number | null, detail: string) => {
    if (start === null || end === null) return;
    stages.push({ id, label: LABELS[id], start: rel(start), end: Math.max(rel(start), rel(end)), status: 'done', detail });
  };
  const firstRound = rounds[0];
  add('firmware', s.poweredOnAt, firstRound?.start ?? null, 'power-on to the first DHCP DISCOVER');
  if (firstRound) add('dhcp', firstRound.start, firstRound.end, `${firstRound.client}: ${firstRound.messages.map((m) => m.type).join(' → ')}${firstRound.ip ? `, ${firstRound.ip}` : ''}${firstRound.bootfile ? `, boot file ${firstRound.bootfile}` : ''}`);
  const tftpNbp = tftp.find((t) => t.ok && /\.(kpxe|pxe|efi|0)$/.test(t.file));
  // UEFI HTTP Boot asks for the NBP more than once (its size first, then the file): the stage spans them all
  const httpNbps = http.filter((h) => /\.(kpxe|pxe|efi|0)$/.test(h.uri.split('?')[0]));
  const httpNbp = httpNbps.reduce<HttpFetch | null>((big, h) => (!big || h.bytes > big.bytes ? h : big), null);
  if (tftpNbp && firstRound?.end != null) add('nbp', firstRound.end, tftpNbp.at, `${base(tftpNbp.file)} over TFTP`);
  else if (httpNbp) add('nbp', httpNbps[0].start, Math.max(...httpNbps.map((h) => h.end)), `${base(httpNbp.uri)} over HTTP ${httpNbp.status}, ${kb(httpNbp.bytes)}${httpNbps.length > 1 ? ` (${httpNbps.map((h) => h.method).join(', ')})` : ''}`);
  const ipxeRound = firstRound?.client !== 'iPXE' ? rounds.find((r) => r.client === 'iPXE' && r.end !== null) : undefined;
  if (ipxeRound) add('dhcp-ipxe', ipxeRound.start, ipxeRound.end, `iPXE: ${ipxeRound.messages.map((m) => m.type).join(' → ')}`);
  const kernelAt = at('kernel');
  const before = (t: number) => kernelAt === null || t <= kernelAt;
  const scripts = http.filter((h) => (h.uri === '/boot.ipxe' || h.uri.startsWith('/ipxe/')) && before(h.start));
  const grubCfg = tftp.filter((t) => t.ok && /grub\.cfg/.test(t.file));
  const scriptFiles = [...scripts.map((h) => ({ start: h.start, end: h.end, what: `${base(h.uri)} ${h.status}` })), ...grubCfg.map((t) => ({ start: t.at, end: t.at, what: base(t.file) }))];
  if (scriptFiles.length) add('script', Math.min(...scriptFiles.map((x) => x.start)), Math.max(...scriptFiles.map((x) => x.end)), scriptFiles.map((x) => x.what).join(', '));
  const arts = http.filter((h) => h.uri.includes('/artifacts/') && before(h.start));
  const kern = kernelFetch(arts, s.kernel);
  if (kern) add('kernel-fetch', kern.start, kern.end, `${base(kern.uri)} ${kern.status}, ${kb(kern.bytes)}${rate(kern.bytes, kern.end - kern.start)}`);
  const rest = arts.filter((h) => h !== kern);
  if (rest.length) add('initrd-fetch', Math.min(...rest.map((h) => h.start)), Math.max(...rest.map((h) => h.end)), rest.map((h) => `${base(h.uri)} ${h.status}, ${kb(h.bytes)}${rate(h.bytes, h.end - h.start)}`).join('; '));
  // Without the stack's logs (provisioner stopped, logs unreadable), iPXE's own console lines still bound each
  // step: a "Configuring …" / "http://…..." line began when the step began and its "ok" came when it ended.
  if (!dhcp.length && !http.length) {
    const span = (m: Milestone): [number, number] | null => (m.after !== null && m.at !== null ? [m.after, m.at] : null);
    const net = ms.find((m) => m.kind === 'ipxe-net');
    const netSpan = net && span(net);
    if (netSpan) { add('firmware', s.poweredOnAt, netSpan[0], 'power-on to iPXE\'s DHCP (console)'); add('dhcp', netSpan[0], netSpan[1], `${net!.text} (console)`); }
    const fetches = ms.filter((m) => m.kind === 'ipxe-fetch' && m.url && span(m) && (kernelAt === null || m.at! <= kernelAt));
    const scr = fetches.filter((m) => !m.url!.includes('/artifacts/'));
    if (scr.length) add('script', span(scr[0])![0], span(scr.at(-1)!)![1], `${scr.map((m) => base(m.url!)).join(', ')} (console)`);
    const art = fetches.filter((m) => m.url!.includes('/artifacts/'));
    const ck = art.find((m) => s.kernel && base(m.url!) === s.kernel) ?? art[0];
    if (ck) add('kernel-fetch', span(ck)![0], span(ck)![1], `${base(ck.url!)}${ck.ok === false ? ' failed' : ''} (console)`);
    const ci = art.filter((m) => m !== ck);
    if (ci.length) add('initrd-fetch', span(ci[0])![0], span(ci.at(-1)!)![1], `${ci.map((m) => base(m.url!)).join(', ')} (console)`);
    if (art.length && kernelAt !== null) add('kernel-start', span(art.at(-1)!)![1], kernelAt, 'boot loader hands over, the kernel decompresses');
  }
  const tftpArts = tftp.filter((t) => t.ok && t.file.includes('/artifacts/'));
  const lastFetch = Math.max(...arts.map((h) => h.end), ...tftpArts.map((t) => t.at), Number.NEGATIVE_INFINITY);
  if (kernelAt !== null && Number.isFinite(lastFetch)) add('kernel-start', lastFetch, kernelAt, 'boot loader hands over, the kernel decompresses');
  const initAt = at('init');
  add('kernel', kernelAt, initAt, ms.find((m) => m.kind === 'kernel')?.text.replace(/^.*?(?=Linux version)/, '').slice(0, 80) ?? '');
  const readyAt = at('ready') ?? at('login');
  add('userspace', initAt, readyAt, ms.find((m) => m.kind === 'ready' || m.kind === 'login')?.text ?? '');
  const ch = callhome[0];
  if (ch) add('callhome', ch.at, ch.at, `${ch.host} ${ch.status}`.trim());

  // dnsmasq's lines are stamped when the stamper reads them, so an ACK or a TFTP "sent" can carry a time a little
  // after the client's next request (seen: 56 ms on a loaded host); causality says the stage ended before that.
  const ORDER: StageId[] = ['firmware', 'dhcp', 'nbp', 'dhcp-ipxe', 'script', 'kernel-fetch', 'initrd-fetch', 'kernel-start', 'kernel', 'userspace'];
  for (const st of stages) {
    if (st.id !== 'dhcp' && st.id !== 'dhcp-ipxe' && st.id !== 'nbp') continue;
    const next = stages.filter((x) => ORDER.indexOf(x.id) > ORDER.indexOf(st.id) && x.start > st.start).reduce((m, x) => Math.min(m, x.start), Number.POSITIVE_INFINITY);
    if (st.end > next) st.end = next;
  }

  // ---- diagnosis, and the stage it names shown as failed (or running)
  const lastEvent = Math.max(s.poweredOnAt, ...dhcp.map((m) => m.at), ...tftp.map((t) => t.at), ...http.map((h) => h.end), ...ms.map((m) => m.at ?? 0));
  const diagnosis = diagnose({ network: s.network, stackRead: s.clock.provisionerOffsetMs !== null, mac: s.mac, rounds, tftp, http: http.filter((h) => before(h.start)), milestones: ms, kernel: s.kernel, initrd: s.initrd,
    running: s.running, idleMs: s.now - lastEvent });
  if (diagnosis.stage) {
    const status = diagnosis.inProgress ? 'running' : 'failed';
    const hit = stages.find((x) => x.id === diagnosis.stage);
    if (hit) { hit.status = status; hit.detail = `${hit.detail} — ${diagnosis.cause}`; }
    else {
      const start = stages.length ? Math.max(...stages.map((x) => x.end)) : 0;
      const end = Math.max(start, rel(s.running && !s.until ? s.now : lastEvent));
      stages.push({ id: diagnosis.stage, label: LABELS[diagnosis.stage], start, end, status, detail: diagnosis.cause });
    }
  }
  stages.sort((a, b) => a.start - b.start || a.end - b.end);
  return {
    vm: s.vm, mac: s.mac, ip: s.ip ?? firstRound?.ip ?? null, poweredOnAt: new Date(s.poweredOnAt).toISOString(), bootKind: s.bootKind,
    boot: s.boot, boots: s.boots, path: bootPath(rounds, tftp), stages, events, diagnosis, clock: s.clock,
  };
}
