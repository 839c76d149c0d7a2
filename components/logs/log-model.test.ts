import { describe, expect, it } from 'vitest';
import { LogModel, MAX_LINE, cleanLine } from './log-model';

const enc = new TextEncoder();

describe('cleanLine', () => {
  it.each([
    ['plain', 'plain'],
    ['with CRLF\r', 'with CRLF'],
    ['\x1b[1;32mgreen\x1b[0m text', 'green text'],
    ['\x1b]0;title\x07prompt # ', 'prompt # '],
    ['progress 10%\rprogress 20%', 'progress 20%'],
    ['long text\rshort', 'shorttext'],
    ['tab\there', 'tab\there'],
    ['bell\x07 and nul\x00', 'bell and nul'],
    ['\x1b(Bcharset', 'charset'],
  ])('%j → %j', (raw, want) => {
    expect(cleanLine(raw)).toBe(want);
  });
});

describe('LogModel', () => {
  it('splits lines across chunks, including a UTF-8 character cut in two', () => {
    const m = new LogModel();
    const bytes = enc.encode('first\nsecönd line\nthird');
    const cut = 9; // inside "ö"
    m.push(bytes.slice(0, cut));
    m.push(bytes.slice(cut));
    expect(m.lines).toEqual(['first', 'secönd line']);
    expect(m.partial).toBe('third');
    expect(m.total).toBe(3);
    expect(m.line(2)).toBe('third');
    expect(m.line(3)).toBeUndefined();
  });

  it('finds boot markers and reports the ones completed by a chunk', () => {
    const m = new LogModel();
    expect(m.pushText('\n=== pvmlab: power on 2024-05-01T10:00:00.000Z ===\nboot\n')).toEqual([{ line: 1, at: '2024-05-01T10:00:00.000Z' }]);
    expect(m.pushText('=== pvmlab: power on 2024-05-01T10:05:00.000Z')).toEqual([]);
    expect(m.pushText(' ===\n')).toEqual([{ line: 3, at: '2024-05-01T10:05:00.000Z' }]);
    expect(m.boots.map((b) => b.line)).toEqual([1, 3]);
    // A look-alike inside a line is not a marker.
    expect(m.pushText('echo === pvmlab: power on x ===\n')).toEqual([]);
  });

  it('keeps at most maxLines, dropping the oldest and counting them', () => {
    const m = new LogModel(1000);
    for (let i = 0; i < 5000; i++) m.pushText(`line ${i}\n`);
    expect(m.lines.length).toBeLessThanOrEqual(1000);
    expect(m.base + m.lines.length).toBe(5000);
    expect(m.line(4999)).toBe('line 4999');
    expect(m.line(m.base)).toBe(`line ${m.base}`);
    expect(m.line(m.base - 1)).toBeUndefined();
  });

  it('searches case-insensitively, keeps matches current as lines arrive and drop', () => {
    const m = new LogModel(100);
    m.pushText('Alpha\nbeta\nALPHABET\n');
    m.search('alpha');
    expect(m.matches()).toEqual([0, 2]);
    m.pushText('gamma alpha\nunfinished alp');
    expect(m.matches()).toEqual([0, 2, 3]);
    m.pushText('ha\n');
    expect(m.matches()).toEqual([0, 2, 3, 4]);
    for (let i = 0; i < 200; i++) m.pushText('filler\n');
    expect(m.matches()).toEqual([]);
    m.pushText('last alpha');
    expect(m.matches()).toEqual([m.end]);
    m.search('');
    expect(m.matches()).toEqual([]);
  });

  it('cuts a line without newlines into bounded pieces', () => {
    const m = new LogModel();
    m.pushText('x'.repeat(MAX_LINE * 2 + 5));
    expect(m.lines).toEqual(['x'.repeat(MAX_LINE), 'x'.repeat(MAX_LINE)]);
    expect(m.partial.length).toBe(5);
  });

  it('clears on reset', () => {
    const m = new LogModel();
    m.pushText('a\nb\n=== pvmlab: power on t ===\n');
    m.clear();
    expect(m.total).toBe(0);
    expect(m.boots).toEqual([]);
  });
});
