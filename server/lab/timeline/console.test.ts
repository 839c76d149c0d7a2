import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseClockMarks, timeBeforeOffset, timeOfOffset } from './console-clock.ts';
import { consoleMilestones, plainLine } from './console.ts';
import { splitBoots } from './recorder.ts';

const dir = path.join(import.meta.dirname, 'testdata');
const load = (name: string) => ({ data: fs.readFileSync(path.join(dir, `${name}.console.log`)), marks: parseClockMarks(fs.readFileSync(path.join(dir, `${name}.console.times`), 'utf8')) });

describe('console clock marks', () => {
  const marks = parseClockMarks('10 1000\n20 1100\nbad line\n35 1200\n');
  it('a byte arrived by the first mark past it, after the last mark at or before it', () => {
    expect([timeOfOffset(marks, 0), timeOfOffset(marks, 10), timeOfOffset(marks, 19), timeOfOffset(marks, 34), timeOfOffset(marks, 35)]).toEqual([1000, 1100, 1100, 1200, null]);
    expect([timeBeforeOffset(marks, 5), timeBeforeOffset(marks, 10), timeBeforeOffset(marks, 34)]).toEqual([null, 1000, 1100]);
  });
  it('a log that shrank (a fresh log) restarts the marks', () => {
    expect(parseClockMarks('10 1000\n20 1100\n5 2000\n')).toEqual([{ offset: 5, at: 2000 }]);
  });
});

describe('consoleMilestones (a real BIOS boot: SeaBIOS → iPXE ROM → HTTP kernel → Linux → the live guest)', () => {
  const { data, marks } = load('bios-ipxe-rom');
  const ms = consoleMilestones(data, 0, marks);
  it('finds the milestones in order, each timed by the console clock', () => {
    expect(ms.map((m) => m.kind)).toEqual(['power-on', 'firmware', 'boot-device', 'ipxe', 'ipxe', 'ipxe-net', 'ipxe-fetch', 'ipxe-fetch', 'ipxe-fetch', 'ipxe-fetch',
      'kernel', 'init', 'net', 'ssh', 'callhome', 'ready']);
    const t0 = ms[0].at!;
    expect(t0).toBe(Date.parse('2026-11-29T17:21:45.231Z'));
    const rel = ms.map((m) => m.at! - t0);
    expect(rel).toEqual([...rel].sort((a, b) => a - b));
    expect(rel.slice(1).every((t) => t > 0)).toBe(true);
    expect(ms.filter((m) => m.kind === 'ipxe-fetch').map((m) => [m.url, m.ok])).toEqual([
      ['http://192.168.100.1/boot.ipxe', true], ['http://192.168.100.1/ipxe/52%3A54%3A00%3Ad0%3A86%3Ab6', true],
      ['http://192.168.100.1/artifacts/pvmlab-live-x86_64-vmlinuz', true], ['http://192.168.100.1/artifacts/pvmlab-live-x86_64-initrd.img', true]]);
    expect(ms.find((m) => m.kind === 'firmware')?.text).toBe('SeaBIOS (version 1.16.2-debian-1.16.2-1)');
  });
  it('a failed fetch is not ok', () => {
    const bad = consoleMilestones(load('kernel-404').data, 0, load('kernel-404').marks);
    expect(bad.filter((m) => m.kind === 'ipxe-fetch').map((m) => m.ok)).toEqual([true, true, false]);
    expect(bad.some((m) => m.kind === 'ipxe-fail')).toBe(true);
  });
  it('strips escape sequences (SeaBIOS clears the screen with ESC c ESC [2J)', () => {
    expect(plainLine('\x1bc\x1b[?7l\x1b[2J\x1b[0mSeaBIOS (version 1)')).toBe('SeaBIOS (version 1)');
  });
});

describe('splitBoots', () => {
  const m = (kind: string, at: number, text = '') => ({ kind, at, after: at, offset: at, text }) as never;
  it('power-on and resume start boots; a second SeaBIOS banner in one boot is a reset', () => {
    const boots = splitBoots([m('power-on', 1), m('firmware', 2, 'SeaBIOS (version x)'), m('kernel', 3), m('firmware', 4, 'SeaBIOS (version x)'), m('kernel', 5),
      m('power-on', 10), m('firmware', 11, 'SeaBIOS (version x)'), m('resume', 20)]);
    expect(boots.map((b) => [b.kind, b.at, b.milestones.length])).toEqual([['power on', 1, 3], ['reset', 4, 2], ['power on', 10, 2], ['resume', 20, 1]]);
  });
});
