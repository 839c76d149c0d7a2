// The console clock: when did each byte of a VM's console log arrive? QEMU writes the serial console to
// logs/<vm>.log (the chardev's logfile=) with no timestamps, and the guest's firmware prints none. So one small
// daemon per lab home ("console clock") watches logs/ (inotify / FSEvents through fs.watch: no polling, no CPU
// when nothing is printed) and appends to logs/<vm>.times one line per observation:
//
//     <byte offset> <ms since the epoch, host clock>      e.g. "48213 1795972467494"
//
// meaning "by this time the log was this long". A byte at offset o therefore arrived at or before the time of
// the first line whose offset is > o, and after the line before it. Observations are taken on the leading
// edge of a burst and then at most every STAMP_EVERY_MS (a boot's console writes byte by byte), so a line's
// time is exact to a few tens of milliseconds. It runs whether or not the panel does: `vm start` (CLI or
// panel) makes sure it is running, and it exits by itself once no VM of the lab has run for a while.
import fs from 'node:fs';
import path from 'node:path';

export const STAMP_EVERY_MS = 25;

/** One observation: the log was `offset` bytes long at `at` (ms since the epoch). */
export interface ClockMark { offset: number; at: number }

/** Parse a .times file (lines "offset ms"); bad lines are skipped, a shrink (a fresh log) restarts the list. */
export function parseClockMarks(text: string): ClockMark[] {
  const out: ClockMark[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+) (\d+)$/.exec(line.trim());
    if (!m) continue;
    const mark = { offset: Number(m[1]), at: Number(m[2]) };
    if (out.length && mark.offset < out[out.length - 1].offset) out.length = 0;
    out.push(mark);
  }
  return out;
}

/** The index of the first mark whose offset is past `offset` (marks.length when none is): a binary search. */
function firstPast(marks: ClockMark[], offset: number): number {
  let lo = 0;
  let hi = marks.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (marks[mid].offset > offset) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * When the byte at `offset` had arrived (ms since the epoch): the time of the first mark past it, or null when
 * no mark covers it (the clock was not running then). `marks` sorted by offset, as parseClockMarks returns.
 */
export function timeOfOffset(marks: ClockMark[], offset: number): number | null {
  const i = firstPast(marks, offset);
  return i < marks.length ? marks[i].at : null;
}

/** When the byte at `offset` had not yet arrived: the time of the last mark at or before it (null: none). */
export function timeBeforeOffset(marks: ClockMark[], offset: number): number | null {
  const i = firstPast(marks, offset);
  return i > 0 ? marks[i - 1].at : null;
}

/** Read logs/<vm>.times (missing → no marks). */
export function readClockMarks(file: string): ClockMark[] {
  try {
    return parseClockMarks(fs.readFileSync(file, 'utf8'));
  } catch {
    return [];
  }
}

export interface ClockOptions {
  /** the logs/ directory to watch */
  logsDir: string;
  /** .times path for a log file name (e.g. "target1.log" → …/target1.times); null: not a console log */
  timesFor: (logName: string) => string | null;
  /** is any VM of the lab running? checked every checkEveryMs; false twice in a row → stop */
  anyRunning: () => boolean;
  checkEveryMs?: number;
  now?: () => number;
}

/**
 * Run the console clock until no VM runs (resolves then). Observes every .log in logsDir on each change event.
 * Errors writing one .times file are ignored (the timeline then has fewer marks, never a wrong one).
 */
export function runConsoleClock(o: ClockOptions): Promise<void> {
  const now = o.now ?? Date.now;
  const last = new Map<string, { size: number; at: number; timer: NodeJS.Timeout | null }>();
  const stamp = (logName: string) => {
    const times = o.timesFor(logName);
    if (!times) return;
    let size: number;
    try { size = fs.statSync(path.join(o.logsDir, logName)).size; } catch { return; }
    const s = last.get(logName) ?? { size: -1, at: 0, timer: null };
    last.set(logName, s);
    const t = now();
    if (size === s.size) return;
    if (t - s.at < STAMP_EVERY_MS) { // inside a burst: one observation at its trailing edge
      s.timer ??= setTimeout(() => { s.timer = null; s.at = 0; stamp(logName); }, STAMP_EVERY_MS - (t - s.at));
      return;
    }
    s.size = size;
    s.at = t;
    try { fs.appendFileSync(times, `${size} ${t}\n`); } catch { /* the timeline shows the gap */ }
  };
  return new Promise((resolve) => {
    const watcher = fs.watch(o.logsDir, (_e, f) => { if (f?.endsWith('.log')) stamp(f); });
    // Bytes written before the first event (QEMU started a moment before us): one observation now.
    for (const f of fs.readdirSync(o.logsDir)) if (f.endsWith('.log')) stamp(f);
    let idle = 0;
    const check = setInterval(() => {
      idle = o.anyRunning() ? 0 : idle + 1;
      if (idle < 2) return;
      clearInterval(check);
      watcher.close();
      for (const s of last.values()) if (s.timer) clearTimeout(s.timer);
      resolve();
    }, o.checkEveryMs ?? 5000);
  });
}
