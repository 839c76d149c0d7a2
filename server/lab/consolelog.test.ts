import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { completeUtf8Length, leadingContinuations, lineSplitter, readLogBytes, readLogText } from './consolelog.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pvlog-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;
function logFile(...parts: (string | number[])[]): string {
  const f = path.join(dir, `${n++}.log`);
  fs.writeFileSync(f, Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p)))));
  return f;
}

describe('UTF-8 boundaries (pure)', () => {
  it('completeUtf8Length leaves out only an unfinished character at the end', () => {
    const cases: [number[], number][] = [
      [[0x61], 1], [[0x61, 0xe2], 1], [[0x61, 0xe2, 0x94], 1], [[0x61, 0xe2, 0x94, 0x80], 4],
      [[0xf0, 0x9f, 0x98], 0], [[0xf0, 0x9f, 0x98, 0x80], 4], [[0xc3], 0], [[0xc3, 0xa9], 2],
      [[0xff], 1], [[0xe9, 0x20], 2], [[0xe0, 0x80], 2], [[0xed, 0xa0], 2], [[0x80, 0x80, 0x80], 3], [[], 0],
    ];
    for (const [bytes, want] of cases) expect(completeUtf8Length(Uint8Array.from(bytes)), bytes.join(',')).toBe(want);
  });
  it('leadingContinuations skips at most three bytes of a character cut at the front', () => {
    expect(leadingContinuations(Uint8Array.from([0x94, 0x80, 0x61]))).toBe(2);
    expect(leadingContinuations(Uint8Array.from([0x80, 0x80, 0x80, 0x80]))).toBe(3);
    expect(leadingContinuations(Uint8Array.from([0x61]))).toBe(0);
  });
});

describe('issue 11 #3: console bytes are bytes', () => {
  it('262 143 × a, then ─, then \\n: bytes read in 256 KiB pieces are the file; text never splits the ─', () => {
    const f = logFile('a'.repeat(262_143), [0xe2, 0x94, 0x80], '\n');
    const whole = fs.readFileSync(f);
    const chunks: Buffer[] = [];
    for (let off = 0; ;) { const r = readLogBytes(f, off, 256 * 1024); if (!r.data.length) break; chunks.push(r.data); off = r.offset; }
    expect(Buffer.concat(chunks).equals(whole)).toBe(true);
    const first = readLogText(f, 0, 256 * 1024);
    expect(first).toMatchObject({ start: 0, offset: 262_143, size: 262_147 });
    expect(first.data).toBe('a'.repeat(262_143));
    expect(readLogText(f, first.offset, 256 * 1024)).toEqual({ data: '─\n', start: 262_143, offset: 262_147, size: 262_147 });
  });
  it('"boot ok " + E2 9C with offset -4096: no U+FFFD, and the offset is where the ✓ will start', () => {
    const f = logFile('boot ok ', [0xe2, 0x9c]);
    const r = readLogText(f, -4096, 256 * 1024);
    expect(r).toEqual({ data: 'boot ok ', start: 0, offset: 8, size: 10 });
    fs.appendFileSync(f, Buffer.from([0x93, 0x0a]));
    expect(readLogText(f, r.offset, 256 * 1024)).toEqual({ data: '✓\n', start: 8, offset: 12, size: 12 });
  });
  it('a negative offset inside a character starts at the next one', () => {
    const f = logFile([0xe2, 0x94, 0x80, 0xe2, 0x94, 0x80, 0xe2, 0x94, 0x80]);
    expect(readLogText(f, -4, 100)).toEqual({ data: '─', start: 6, offset: 9, size: 9 });
  });
  it('Latin-1 and 0xFF: bytes pass unchanged; text shows each as one U+FFFD and consumes it', () => {
    const f = logFile('caf', [0xe9], ' ', [0xff], '\n');
    expect(readLogBytes(f, 0, 100).data.equals(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0xff, 0x0a]))).toBe(true);
    expect(readLogText(f, 0, 100)).toEqual({ data: 'caf\ufffd \ufffd\n', start: 0, offset: 7, size: 7 });
  });
  it('a missing log is empty', () => {
    expect(readLogText(path.join(dir, 'none.log'), -10, 10)).toEqual({ data: '', start: 0, offset: 0, size: 0 });
  });
});

describe('lineSplitter (a child\'s output as log lines)', () => {
  it('keeps characters and lines whole across chunks', () => {
    const got: string[] = [];
    const s = lineSplitter((l) => got.push(l));
    for (const c of [[0x73, 0x74, 0x65, 0x70, 0x20, 0xe2], [0x9c, 0x93, 0x20, 0x6f], [0x6b, 0x0a, 0x0a, 0x6e, 0x65, 0x78], [0x74, 0x0d, 0x0a, 0x74, 0x61, 0x69, 0x6c]]) s.write(Uint8Array.from(c));
    s.end();
    expect(got).toEqual(['step ✓ ok', 'next', 'tail']);
  });
});
