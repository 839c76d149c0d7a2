// The boot flight recorder's executor: reads a target's console log and console clock (host), and the pxeboot
// stack's logs on the provisioner (one SSH round trip, which also measures the provisioner's clock offset), then
// assembles the chosen boot's timeline (assemble.ts, pure).
import { PassThrough } from 'node:stream';
import { readLogBytes } from '../consolelog.ts';
import { NotFoundError } from '../errors.ts';
import type { Remote } from '../provisioner/remote.ts';
import { PXE_DIR } from '../provisioner/stack.ts';
import { alignOffset, consoleAnchors, type Alignment } from './align.ts';
import { assembleTimeline } from './assemble.ts';
import { readClockMarks, type ClockMark } from './console-clock.ts';
import { consoleMilestones, type Milestone } from './console.ts';
import { parseDnsmasqLog, type DnsmasqEvents } from './dnsmasq.ts';
import { parseCallHomeLog, parseHttpLog, type CallHome, type HttpFetch } from './nginx.ts';
import type { Timeline } from './types.ts';

/** How much of each stack log is read (the last lines: a boot's DHCP exchanges are ~60 lines of log-dhcp). */
export const STACK_LOG_LINES = { dnsmasq: 40_000, http: 10_000, callhome: 2_000 } as const;
/** How much of the console log is read (its end). */
export const CONSOLE_BYTES = 16 << 20;

export interface StackLogs {
  dnsmasq: DnsmasqEvents;
  http: HttpFetch[];
  callhome: CallHome[];
  /** the provisioner's clock minus the host's, ms, and ± how sure */
  offsetMs: number;
  uncertaintyMs: number;
}

/** Clock samples taken per reading (the one with the shortest round trip is used, as NTP does). */
export const CLOCK_SAMPLES = 5;

/**
 * Read the stack's logs (/pxe/log/dnsmasq.log, /pxe/log/http.log, /pxe/http-callhome.log: their last lines) in
 * one SSH command, which first measures the provisioner's clock: CLOCK_SAMPLES times the host sends a line and
 * the provisioner answers with `date +%s%N`; each answer was taken between that send and its arrival, so its
 * offset is taken at the middle and half the round trip is its uncertainty; the sample with the shortest round
 * trip wins. Times in the result are converted to the host clock. Throws RemoteError.
 */
export async function readStackLogs(remote: Remote, timeoutMs = 30_000): Promise<StackLogs> {
  const files: [string, number][] = [['log/dnsmasq.log', STACK_LOG_LINES.dnsmasq], ['log/http.log', STACK_LOG_LINES.http], ['http-callhome.log', STACK_LOG_LINES.callhome]];
  const script = [`for i in ${Array.from({ length: CLOCK_SAMPLES }, (_, k) => k + 1).join(' ')}; do read x || exit 1; date +%s%N; done`,
    ...files.map(([f, n]) => `echo '@@pvmlab ${f}'; tail -n ${n} ${PXE_DIR}/${f} 2>/dev/null`)].join('; ');
  const input = new PassThrough();
  const { proc, done } = remote.spawn(['sh', '-c', script], { sudo: true, timeoutMs, input });
  const samples: { offset: number; rtt: number }[] = [];
  let sent = 0;
  let buf = '';
  const ping = () => { sent = Date.now(); input.write('\n'); };
  proc.stdout?.on('data', (d: Buffer) => {
    if (samples.length >= CLOCK_SAMPLES) return;
    buf += d.toString('latin1');
    let nl = buf.indexOf('\n');
    while (nl >= 0 && samples.length < CLOCK_SAMPLES) {
      const now = Date.now();
      const remoteMs = Number(buf.slice(0, nl).trim()) / 1e6;
      buf = buf.slice(nl + 1);
      if (Number.isFinite(remoteMs)) samples.push({ offset: remoteMs - (sent + now) / 2, rtt: now - sent });
      if (samples.length < CLOCK_SAMPLES) ping(); else input.end();
      nl = buf.indexOf('\n');
    }
  });
  ping();
  const out = await done;
  const best = samples.sort((a, b) => a.rtt - b.rtt)[0];
  if (!best || samples.length < CLOCK_SAMPLES) throw new Error('the provisioner gave no clock reading');
  const offsetMs = Math.round(best.offset);
  const rest = out.split('\n').slice(CLOCK_SAMPLES);
  const parts = new Map<string, string>();
  let cur = '';
  for (const line of rest) {
    const m = /^@@pvmlab (\S+)$/.exec(line);
    if (m) { cur = m[1]; parts.set(cur, ''); continue; }
    if (cur) parts.set(cur, `${parts.get(cur)}${line}\n`);
  }
  return {
    dnsmasq: parseDnsmasqLog(parts.get('log/dnsmasq.log') ?? ''),
    http: parseHttpLog(parts.get('log/http.log') ?? ''),
    callhome: parseCallHomeLog(parts.get('http-callhome.log') ?? ''),
    offsetMs,
    uncertaintyMs: Math.ceil(best.rtt / 2),
  };
}

/** Stack events moved to the host clock (host = provisioner − offset). Pure. */
export function shiftStackLogs(l: StackLogs, offsetMs: number): StackLogs {
  const shift = (t: number) => t - offsetMs;
  return {
    ...l,
    dnsmasq: { dhcp: l.dnsmasq.dhcp.map((m) => ({ ...m, at: shift(m.at) })), tftp: l.dnsmasq.tftp.map((t) => ({ ...t, at: shift(t.at) })) },
    http: l.http.map((h) => ({ ...h, start: shift(h.start), end: shift(h.end) })),
    callhome: l.callhome.map((c) => ({ ...c, at: shift(c.at) })),
  };
}

/** Drift a guest clock may show between a boot and its reading, for matching a boot's anchors (align.ts). */
const ANCHOR_SLACK_MS = 120_000;

/** The boot's offset: measured now, corrected by its iPXE console anchors when they disagree (align.ts). */
function bootAlignment(l: StackLogs, mac: string, ip: string | null, from: number, until: number | null, milestones: Milestone[]): Alignment {
  const lo = from + l.offsetMs - ANCHOR_SLACK_MS;
  const hi = (until ?? Number.POSITIVE_INFINITY) + l.offsetMs + ANCHOR_SLACK_MS;
  const dhcp = l.dnsmasq.dhcp.filter((m) => m.mac === mac && m.at >= lo && m.at < hi);
  const ips = new Set([ip, ...dhcp.map((m) => (m.type === 'ACK' ? m.ip : null))].filter(Boolean));
  const http = l.http.filter((h) => ips.has(h.ip) && h.start >= lo && h.start < hi);
  return alignOffset({ offsetMs: l.offsetMs, uncertaintyMs: l.uncertaintyMs }, consoleAnchors(milestones, dhcp, http, l.offsetMs));
}

/** One boot in the console log: its start (power-on, resume or a firmware reset) and its milestones. */
export interface ConsoleBoot { kind: Timeline['bootKind']; at: number | null; milestones: Milestone[] }

/**
 * Split console milestones into boots: each pvmlab "power on" / "resume" line starts one, and so does a second
 * SeaBIOS banner within one (a guest reboot or a QMP system_reset: same QEMU, firmware again). Pure.
 */
export function splitBoots(milestones: Milestone[]): ConsoleBoot[] {
  const boots: ConsoleBoot[] = [];
  let cur: ConsoleBoot | null = null;
  let sawBanner = false;
  for (const m of milestones) {
    const banner = m.kind === 'firmware' && m.text.startsWith('SeaBIOS');
    if (m.kind === 'power-on' || m.kind === 'resume' || (banner && sawBanner) || !cur) {
      cur = { kind: m.kind === 'resume' ? 'resume' : m.kind === 'power-on' || !cur ? 'power on' : 'reset', at: m.at, milestones: [] };
      boots.push(cur);
      sawBanner = false;
    }
    if (banner) sawBanner = true;
    cur.milestones.push(m);
  }
  return boots;
}

export interface RecordInput {
  vm: string;
  mac: string;
  ip: string | null;
  running: boolean;
  consoleLog: string;
  consoleTimes: string;
  /** the provisioner's SSH, null when it is not running (the timeline then has the console only) */
  provisioner: Remote | null;
  kernel: string | null;
  initrd: string | null;
  /** boots over the network (a PXE target); false: kernel or disk boot (no DHCP stages expected) */
  network?: boolean;
  /** which boot: 0 = first in the console log, -1 (default) = the last */
  boot?: number;
}

/** The timeline of one boot of a target (reads the console log and clock, and the stack's logs over SSH). Throws NotFoundError for a boot that is not there. */
export async function recordTimeline(i: RecordInput): Promise<Timeline> {
  const log = readLogBytes(i.consoleLog, -CONSOLE_BYTES, CONSOLE_BYTES);
  let stack: StackLogs | Error | null = null;
  if (i.provisioner) {
    try { stack = await readStackLogs(i.provisioner); } catch (e) { stack = e as Error; }
  }
  return buildTimeline(i, log.data, log.start, readClockMarks(i.consoleTimes), stack, Date.now());
}

/**
 * The timeline of one boot from what was read: console bytes (from byte `base`), its clock marks, the stack's logs
 * (null: provisioner not running; an Error: unreadable) on the provisioner's clock. Pure.
 */
export function buildTimeline(i: Omit<RecordInput, 'provisioner' | 'consoleLog' | 'consoleTimes'>, data: Buffer, base: number, marks: ClockMark[],
  raw: StackLogs | Error | null, now: number): Timeline {
  const boots = splitBoots(consoleMilestones(data, base, marks));
  const idx = (i.boot ?? -1) < 0 ? boots.length + (i.boot ?? -1) : i.boot!;
  const boot = boots[idx];
  if (!boot || boot.at === null) throw new NotFoundError(boots.length ? `'${i.vm}' has ${boots.length} boot(s) in its console log: boot ${i.boot} is not one of them` : `'${i.vm}' has not booted yet (no power-on in its console log): start it (pvmlab vm start ${i.vm}), then look again`);
  const next = boots[idx + 1];
  const notes: string[] = [];
  let stack: StackLogs | null = null;
  let align: Alignment | null = null;
  if (!raw) notes.push('the provisioner is not running: no DHCP, TFTP or HTTP events');
  else if (raw instanceof Error) notes.push(`the stack's logs could not be read: ${raw.message.split('\n')[0]}`);
  else {
    align = bootAlignment(raw, i.mac.toLowerCase(), i.ip, boot.at, next?.at ?? null, boot.milestones);
    if (align.corrected && Math.abs(align.offsetMs - raw.offsetMs) > 50 + raw.uncertaintyMs) notes.push(`the provisioner's clock measured now (${raw.offsetMs} ms ± ${raw.uncertaintyMs}) disagrees with this boot's console (clock drift): aligned on ${align.anchors} iPXE line(s) instead`);
    stack = shiftStackLogs(raw, align.offsetMs);
  }
  const consoleTimed = boot.milestones.some((m) => m.kind !== 'power-on' && m.kind !== 'resume' && m.at !== null);
  if (!consoleTimed) notes.push('the console clock did not run during this boot: console milestones have no times');
  return assembleTimeline({
    vm: i.vm, mac: i.mac.toLowerCase(), ip: i.ip, poweredOnAt: boot.at, bootKind: boot.kind, boot: idx, boots: boots.length,
    until: next?.at ?? null, milestones: boot.milestones, dhcp: stack?.dnsmasq.dhcp ?? [], tftp: stack?.dnsmasq.tftp ?? [],
    http: stack?.http ?? [], callhome: stack?.callhome ?? [], kernel: i.kernel, initrd: i.initrd, network: i.network,
    running: i.running && !next, now,
    clock: { provisionerOffsetMs: align?.offsetMs ?? null, uncertaintyMs: align?.uncertaintyMs ?? null, consoleTimed, notes },
  });
}
