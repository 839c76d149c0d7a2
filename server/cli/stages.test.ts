import { describe, expect, it } from 'vitest';
import { formatDuration, stageLine, stagePrinter } from './stages.ts';
import type { JobHandle } from '../lab/jobs.ts';

describe('stage lines', () => {
  it.each([[850, '850 ms'], [12_345, '12.3 s'], [125_000, '2 min 05 s']])('%d ms → %s', (ms, s) => { expect(formatDuration(ms)).toBe(s); });

  it('a line when a stage ENDS, with its duration; the last ends at finish (✗ on failure)', () => {
    let t = 0;
    const lines: string[] = [];
    const seen: string[] = [];
    const inner: JobHandle = { id: 'j', signal: new AbortController().signal, stage: (n) => seen.push(n), progress: () => {}, log: () => {} };
    const p = stagePrinter(inner, { out: (l) => lines.push(l), now: () => t, keep: (l) => l.startsWith('!') });
    p.handle.stage('booted'); t = 2000;
    expect(lines).toEqual([]); // nothing is printed when a stage starts
    p.handle.stage('ssh'); t = 14_500;
    p.handle.log('! kept'); p.handle.log('dropped');
    expect(p.finish(false)).toBe(14_500);
    expect(lines).toEqual([stageLine('booted', 2000), '    ! kept', stageLine('ssh', 12_500, false)]);
    expect(lines[0]).toMatch(/^ {2}✓ booted +2\.0 s$/);
    expect(lines[2]).toMatch(/✗ ssh +failed after 12\.5 s$/);
    expect(seen).toEqual(['booted', 'ssh']);
  });

  it('flush ends the current stage now; the next stage starts afresh', () => {
    let t = 0;
    const lines: string[] = [];
    const inner: JobHandle = { id: 'j', signal: new AbortController().signal, stage: () => {}, progress: () => {}, log: () => {} };
    const p = stagePrinter(inner, { out: (l) => lines.push(l), now: () => t });
    p.handle.stage('look'); t = 500;
    p.flush(); lines.push('plan…'); t = 900;
    p.handle.stage('start'); t = 1000;
    p.finish(true);
    expect(lines).toEqual([stageLine('look', 500), 'plan…', stageLine('start', 100)]);
  });
});
