import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLogText } from '../consolelog.ts';
import { tmpDir } from '../testing/cleanup.ts';
import { LogFollower } from './logfollow.ts';

describe('LogFollower', () => {
  it('reads only new bytes; a marker split across two writes matches; each wait sees what came before it', () => {
    const file = path.join(tmpDir(), 'console.log');
    fs.writeFileSync(file, 'old boot: pvmlab: booting t1 (old)\n');
    const reads: [number, number][] = [];
    const f = new LogFollower((o, l) => { const r = readLogText(file, o, l); reads.push([o, r.offset]); return r; }, fs.statSync(file).size);
    expect(f.poll()).toBe(0);
    f.rewind();
    expect(f.find(/pvmlab: booting t1 /)).toBe(false); // the old boot's line is before the start offset
    fs.appendFileSync(file, 'iPXE ... pvmlab: boo');
    expect(f.poll()).toBe(20);
    expect(f.find(/pvmlab: booting t1 /)).toBe(false);
    fs.appendFileSync(file, 'ting t1 (52:54) PVMLAB-NET ip=192.168.100.2\n');
    f.poll();
    expect(f.find(/pvmlab: booting t1 /)).toBe(true);
    f.rewind(); // the next stage's marker arrived in the same read
    expect(f.find(/PVMLAB-NET ip=/)).toBe(true);
    // every read started where the previous one ended: no byte was read twice
    expect(reads.map(([o]) => o)).toEqual([35, 35, 55]);
    for (let i = 1; i < reads.length; i++) expect(reads[i][0]).toBe(reads[i - 1][1]);
    expect(f.lastLines(2)).toBe('iPXE ... pvmlab: booting t1 (52:54) PVMLAB-NET ip=192.168.100.2\n');
    expect(f.position).toBe(fs.statSync(file).size);
  });

  it('a UTF-8 character cut by a write arrives whole', () => {
    const file = path.join(tmpDir(), 'console.log');
    fs.writeFileSync(file, '');
    const f = new LogFollower((o, l) => readLogText(file, o, l), 0);
    const bytes = Buffer.from('état ✓ ready\n');
    fs.appendFileSync(file, bytes.subarray(0, 7)); // inside ✓
    f.poll();
    fs.appendFileSync(file, bytes.subarray(7));
    f.poll();
    f.rewind();
    expect(f.find(/✓ ready/)).toBe(true);
  });
});
