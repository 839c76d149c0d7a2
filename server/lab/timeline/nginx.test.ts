import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCallHomeLog, parseHttpLog } from './nginx.ts';

const fixture = (f: string) => fs.readFileSync(path.join(import.meta.dirname, 'testdata', f), 'utf8');

describe('parseHttpLog (the stack\'s `timeline` log_format, captured)', () => {
  it('reads each fetch with start = end − request_time, bytes, status and completion', () => {
    const h = parseHttpLog(fixture('bios-ipxe-rom.http.log'));
    expect(h.map((x) => [x.uri, x.status, x.bytes, x.end - x.start])).toEqual([
      ['/boot.ipxe', 200, 566, 0], ['/ipxe/52%3A54%3A00%3Ad0%3A86%3Ab6', 200, 465, 0],
      ['/artifacts/pvmlab-live-x86_64-vmlinuz', 200, 14190528, 3291], ['/artifacts/pvmlab-live-x86_64-initrd.img', 200, 3497309, 494]]);
    expect(h[2]).toMatchObject({ end: 1795972907259, ip: '192.168.100.2', length: 14190528, complete: true, userAgent: 'iPXE/1.0.0+git-20190125.36a4c85-5.1' });
  });

  it('keeps a 404', () => {
    expect(parseHttpLog(fixture('kernel-404.http.log')).find((x) => x.status === 404)).toMatchObject({ uri: '/artifacts/no-such-vmlinuz', ip: '192.168.100.3' });
  });

  it('skips lines that are not its JSON', () => {
    expect(parseHttpLog('192.168.100.2 [2026-11-29T17:21:43+00:00] "GET / HTTP/1.1" 404 146 "x"\n{"broken"\n{"msec":"x"}')).toEqual([]);
  });
});

describe('parseCallHomeLog', () => {
  it('uses msec when logged, else the ISO time; decodes the values', () => {
    expect(parseCallHomeLog(fixture('bios-ipxe-rom.callhome.log'))).toEqual([{ at: 1795972922473, remote: '192.168.100.2', host: 'target1', mac: '', status: '' }]);
    expect(parseCallHomeLog('{"time":"2026-11-25T22:26:02+00:00","remote":"192.168.100.10","host":"t1","mac":"52%3A54%3A00%3Abb%3A00%3A10","status":"ok"}'))
      .toEqual([{ at: Date.parse('2026-11-25T22:26:02Z'), remote: '192.168.100.10', host: 't1', mac: '52:54:00:bb:00:10', status: 'ok' }]);
  });
});
