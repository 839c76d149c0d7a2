// Milestones of a boot as the serial console shows them (logs/<vm>.log, written by QEMU), timed by the console
// clock (console-clock.ts). Patterns are the exact lines printed by pvmlab, SeaBIOS, OVMF, iPXE, GRUB and
// Linux, as captured from real boots (console.test.ts holds them).
import { timeBeforeOffset, timeOfOffset, type ClockMark } from './console-clock.ts';

export type MilestoneKind =
  | 'power-on' | 'resume' | 're-provision' // pvmlab's own lines (exact ISO time)
  | 'firmware' | 'boot-device' | 'no-boot-device' // SeaBIOS / OVMF
  | 'ipxe' | 'ipxe-net' | 'ipxe-fetch' | 'ipxe-fail' // iPXE
  | 'grub' // GRUB
  | 'kernel' | 'init' | 'panic' // Linux
  | 'net' | 'ssh' | 'callhome' | 'ready' | 'login'; // the guest

/** One console milestone. `at`: ms since the epoch (host clock), null when the console clock did not see it. */
export interface Milestone {
  kind: MilestoneKind;
  at: number | null;
  /** the line had not begun before this time (ms since the epoch; null: unknown) */
  after: number | null;
  /** byte offset of the line's start in the console log */
  offset: number;
  /** the line (ANSI escapes removed, trimmed, at most 200 characters) */
  text: string;
  /** ipxe-fetch: the URL and whether iPXE said "ok" */
  url?: string;
  ok?: boolean;
}

const RULES: [MilestoneKind, RegExp][] = [
  ['firmware', /^SeaBIOS \(version |^BdsDxe: |^UEFI Interactive Shell|^EFI stub: /],
  ['boot-device', /^Booting from |^>>Start (PXE|HTTP Boot) over IPv[46]/],
  ['no-boot-device', /^No bootable device|^Boot failed: not a bootable disk/],
  ['ipxe', /^iPXE initialising devices|^iPXE \d\S* -- Open Source Network Boot Firmware/],
  ['ipxe-net', /^Configuring \(net\d/],
  ['ipxe-fetch', /^(?:https?|tftp):\/\/\S+\.\.\./],
  ['ipxe-fail', /^No more network devices|^Could not boot|^Error 0x[0-9a-f]{8}/],
  ['grub', /^Welcome to GRUB|GNU GRUB {2}version/],
  ['kernel', /\bLinux version \d\S*/],
  ['init', /^(?:\[\s*\d+\.\d+\] )?Run \/\S*init as init process/],
  ['panic', /Kernel panic - not syncing/],
  ['net', /^PVMLAB-NET /],
  ['ssh', /^PVMLAB-SSH ready|Started ssh\.service|Started OpenBSD Secure Shell server/],
  ['callhome', /^PVMLAB-CALLHOME /],
  ['ready', /PVMLAB-GUEST-READY/],
  ['login', /\blogin: ?$/],
];
const MARKER = /^=== pvmlab: (power on|resume from snapshot \S+|re-provision \(fresh disk\)) (\d{4}-\d\d-\d\dT\S+Z) ===$/;

/** Remove ANSI escape sequences (iPXE and GRUB draw with them) and other control characters but tabs. */
export function plainLine(s: string): string {
  return s.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[ -/]*[0-~]|[\x00-\x08\x0b-\x1f\x7f]/g, '');
}

/**
 * Milestones in console log bytes `data` that start at byte `base` of the log. A line is split at "\n" and "\r"
 * (iPXE rewrites its progress lines with "\r"); its time is when its last byte arrived. Pure.
 */
export function consoleMilestones(data: Buffer, base: number, marks: ClockMark[]): Milestone[] {
  const out: Milestone[] = [];
  let start = 0;
  for (let i = 0; i <= data.length; i++) {
    if (i < data.length && data[i] !== 0x0a && data[i] !== 0x0d) continue;
    const text = plainLine(data.subarray(start, i).toString('utf8')).trim();
    const offset = base + start;
    const endAt = i > start ? timeOfOffset(marks, base + i - 1) : null;
    start = i + 1;
    if (!text) continue;
    const mk = MARKER.exec(text);
    if (mk) {
      const kind: MilestoneKind = mk[1] === 'power on' ? 'power-on' : mk[1].startsWith('resume') ? 'resume' : 're-provision';
      out.push({ kind, at: Date.parse(mk[2]), after: Date.parse(mk[2]), offset, text });
      continue;
    }
    for (const [kind, re] of RULES) {
      if (!re.test(text)) continue;
      const m: Milestone = { kind, at: endAt, after: timeBeforeOffset(marks, offset), offset, text: text.slice(0, 200) };
      if (kind === 'ipxe-fetch') {
        const u = /^(\S+?)\.\.\.\s*(.*)$/.exec(text)!;
        m.url = u[1];
        m.ok = /\bok$/.test(u[2]);
        // a line that ends before its verdict (iPXE still downloading when the log was read) is not a failure yet
        if (!m.ok && !u[2].trim()) delete m.ok;
      }
      out.push(m);
      break;
    }
  }
  return out;
}
